module github.com/libcodex-app-server/libcodex_app_server/bindings/go

go 1.19
