module gateway-smoke/bench/go-reverse-proxy

go 1.22
