// grpcdemo - the gRPC server and client of tests/e2e/test_grpc.sh, built
// offline in GOPATH mode from Debian's golang-google-grpc-dev. No protobuf:
// the service is declared by hand with a codec that moves raw bytes, so no
// code generator is needed. Service demo.Shop:
//
//	Get    unary, answers OK
//	Fail   unary, answers UNAVAILABLE
//	Chat   bidirectional streaming: echoes each message, ends when the client does
//
// Usage:
//
//	grpcdemo server ADDR
//	grpcdemo client ADDR GETS FAILS CHATS MSGS [PAUSE_MS [START_MS]]
//
// The client waits START_MS (default 1000: an agent selects a new process
// once it has read its executable), makes every call on one connection
// (PAUSE_MS between calls) and prints its own counts:
// "get_ok N fail_unavailable N chat_ok N".
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"
)

type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string   { return "raw" }
func (rawCodec) String() string { return "raw" }

type shop interface{}
type server struct{}

func get(srv interface{}, ctx context.Context, dec func(interface{}) error, _ grpc.UnaryServerInterceptor) (interface{}, error) {
	var in []byte
	if err := dec(&in); err != nil {
		return nil, err
	}
	out := append([]byte("item:"), in...)
	return &out, nil
}

func fail(srv interface{}, ctx context.Context, dec func(interface{}) error, _ grpc.UnaryServerInterceptor) (interface{}, error) {
	var in []byte
	if err := dec(&in); err != nil {
		return nil, err
	}
	return nil, status.Error(codes.Unavailable, "backend down")
}

func chat(srv interface{}, stream grpc.ServerStream) error {
	for {
		var in []byte
		if err := stream.RecvMsg(&in); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if err := stream.SendMsg(&in); err != nil {
			return err
		}
	}
}

var desc = grpc.ServiceDesc{
	ServiceName: "demo.Shop",
	HandlerType: (*shop)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Get", Handler: get},
		{MethodName: "Fail", Handler: fail},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Chat", Handler: chat, ServerStreams: true, ClientStreams: true},
	},
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad number:", s)
		os.Exit(2)
	}
	return n
}

func runClient(addr string, gets, fails, chats, msgs int, pause time.Duration) {
	conn, err := grpc.Dial(addr, grpc.WithInsecure(),
		grpc.WithDefaultCallOptions(grpc.CallContentSubtype("raw")))
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(1)
	}
	defer conn.Close()
	ctx := context.Background()
	getOK, unavailable, chatOK := 0, 0, 0
	for i := 0; i < gets; i++ {
		in, out := []byte(strconv.Itoa(i)), []byte(nil)
		if err := conn.Invoke(ctx, "/demo.Shop/Get", &in, &out); err == nil {
			getOK++
		} else {
			fmt.Fprintln(os.Stderr, "Get:", err)
		}
		time.Sleep(pause)
	}
	for i := 0; i < fails; i++ {
		in, out := []byte("x"), []byte(nil)
		if status.Code(conn.Invoke(ctx, "/demo.Shop/Fail", &in, &out)) == codes.Unavailable {
			unavailable++
		}
		time.Sleep(pause)
	}
	for i := 0; i < chats; i++ {
		st, err := conn.NewStream(ctx, &desc.Streams[0], "/demo.Shop/Chat")
		if err != nil {
			continue
		}
		ok := true
		for m := 0; m < msgs && ok; m++ {
			in, out := []byte("hello"), []byte(nil)
			ok = st.SendMsg(&in) == nil && st.RecvMsg(&out) == nil
			time.Sleep(pause / 4)
		}
		if ok && st.CloseSend() == nil {
			var out []byte
			if st.RecvMsg(&out) == io.EOF {
				chatOK++
			}
		}
		time.Sleep(pause)
	}
	fmt.Printf("get_ok %d fail_unavailable %d chat_ok %d\n", getOK, unavailable, chatOK)
}

func main() {
	encoding.RegisterCodec(rawCodec{})
	if len(os.Args) >= 3 && os.Args[1] == "server" {
		l, err := net.Listen("tcp", os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "listen:", err)
			os.Exit(1)
		}
		s := grpc.NewServer(grpc.CustomCodec(rawCodec{}))
		s.RegisterService(&desc, &server{})
		s.Serve(l)
		return
	}
	if len(os.Args) >= 7 && os.Args[1] == "client" {
		pause, start := 0, 1000
		if len(os.Args) >= 8 {
			pause = atoi(os.Args[7])
		}
		if len(os.Args) >= 9 {
			start = atoi(os.Args[8])
		}
		time.Sleep(time.Duration(start) * time.Millisecond)
		runClient(os.Args[2], atoi(os.Args[3]), atoi(os.Args[4]), atoi(os.Args[5]),
			atoi(os.Args[6]), time.Duration(pause)*time.Millisecond)
		return
	}
	fmt.Fprintln(os.Stderr, "usage: grpcdemo server ADDR | client ADDR GETS FAILS CHATS MSGS [PAUSE_MS]")
	os.Exit(2)
}
