module codexappserver

go 1.19
