module codexappserver

go 1.21
