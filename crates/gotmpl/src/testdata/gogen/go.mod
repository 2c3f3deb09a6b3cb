module gogen

go 1.22
