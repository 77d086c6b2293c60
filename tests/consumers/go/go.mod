module example.com/codexconsumer

go 1.19

require github.com/libcodex-app-server/libcodex_app_server/bindings/go v0.0.0

// The binding from this checkout; a project outside the repository drops this line (or points
// it at its own copy) and gets the module by its path.
replace github.com/libcodex-app-server/libcodex_app_server/bindings/go => ../../../bindings/go
