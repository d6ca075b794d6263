// A plain Go reverse proxy (net/http/httputil.ReverseProxy with its defaults and Go's default
// transport), the baseline bench/cutoff-bench.ts runs beside llm-proxy in front of the same mock:
// if it cuts off streams too, the cause is not llm-proxy's own code. Standard library only, so it
// builds without the Go module proxy.
//
//	go-reverse-proxy -target http://127.0.0.1:8089 [-listen 127.0.0.1:0]
//
// Prints "go-reverse-proxy listening on http://<addr>" once it accepts connections.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/url"
	"os"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (port 0: a free one)")
	target := flag.String("target", "", "upstream base URL, e.g. http://127.0.0.1:8089 (the request path is kept)")
	flag.Parse()
	up, err := url.Parse(*target)
	if *target == "" || err != nil || up.Scheme == "" || up.Host == "" {
		fmt.Fprintf(os.Stderr, "go-reverse-proxy: -target must be an absolute URL, got %q\n", *target)
		os.Exit(2)
	}
	// Rewrite + SetURL is the documented plain form; streaming flushes are the default
	// (text/event-stream answers are flushed at once). The trace only logs: when the transport
	// fails to finish writing a request upstream it drops that connection, answer and all, and
	// ReverseProxy logs just the symptom ("read error during body copy").
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err != nil {
			log.Printf("go-reverse-proxy: writing the request upstream failed: %v", i.Err)
		}
	}}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(up)
		r.Out = r.Out.WithContext(httptrace.WithClientTrace(r.Out.Context(), trace))
	}}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-reverse-proxy: cannot listen: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("go-reverse-proxy listening on http://%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, proxy))
}
