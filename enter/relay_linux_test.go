package enter

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/api"
)

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	frames := []struct {
		t api.FrameType
		p []byte
	}{
		{api.FrameData, []byte("hello\n")},
		{api.FrameResize, api.ResizePayload(50, 132)},
		{api.FrameClose, nil},
		{api.FrameData, bytes.Repeat([]byte{0}, api.MaxFrame)},
		{api.FrameExit, api.ExitPayload(137)},
	}
	for _, f := range frames {
		if err := api.WriteFrame(&buf, f.t, f.p); err != nil {
			t.Fatalf("WriteFrame(%c): %v", f.t, err)
		}
	}
	for _, f := range frames {
		typ, p, err := api.ReadFrame(&buf)
		if err != nil || typ != f.t || !bytes.Equal(p, f.p) {
			t.Fatalf("ReadFrame = %c, %d bytes, %v; want %c, %d bytes", typ, len(p), err, f.t, len(f.p))
		}
	}
	if _, _, err := api.ReadFrame(&buf); err != io.EOF {
		t.Errorf("ReadFrame at the end = %v, want io.EOF", err)
	}
	if rows, cols, err := api.ParseResize(api.ResizePayload(50, 132)); rows != 50 || cols != 132 || err != nil {
		t.Errorf("ParseResize = %d, %d, %v", rows, cols, err)
	}
	for _, code := range []int{0, 3, 255} {
		if got, err := api.ParseExit(api.ExitPayload(code)); got != code || err != nil {
			t.Errorf("ParseExit(ExitPayload(%d)) = %d, %v", code, got, err)
		}
	}
	if err := api.WriteFrame(io.Discard, api.FrameData, make([]byte, api.MaxFrame+1)); !errors.Is(err, api.ErrFrameTooLarge) {
		t.Errorf("WriteFrame of MaxFrame+1 bytes = %v, want ErrFrameTooLarge", err)
	}
	for name, in := range map[string]string{
		"truncated header":  "d\x00\x00",
		"truncated payload": "d\x00\x00\x00\x05abc",
		"too large":         "d\x00\x10\x00\x01",
	} {
		if _, _, err := api.ReadFrame(strings.NewReader(in)); err == nil || err == io.EOF {
			t.Errorf("ReadFrame(%s) = %v, want an error other than io.EOF", name, err)
		}
	}
	if _, err := api.ParseExit([]byte{1}); err == nil {
		t.Error("ParseExit of 1 byte: no error")
	}
	if _, _, err := api.ParseResize(nil); err == nil {
		t.Error("ParseResize of nothing: no error")
	}
}
