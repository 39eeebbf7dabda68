module github.com/libzerobus/zerobus-go

go 1.23

require (
	github.com/linkedin/goavro/v2 v2.15.0
	google.golang.org/protobuf v1.36.12
)

require github.com/golang/snappy v0.0.1 // indirect
