package serve_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/serve"
)

// Every bad request gets a 4xx with KServe's error body, {"error": "..."},
// one line naming what is at fault; the server keeps serving after each.
func TestBadRequestsGetJSONErrors(t *testing.T) {
	const maxBody = 1 << 20
	_, base := startServer(t, serve.Options{MaxBody: maxBody}, runs.mlp, runs.mf, runs.lm)
	image := inferRequest("FP32", []int{1, 1, 28, 28}, examples(0, 1), "")
	png, err := os.ReadFile(filepath.Join("..", "testdata", "cli", "gray-28x28.png"))
	if err != nil {
		t.Fatal(err)
	}
	notImage, err := os.ReadFile(filepath.Join("..", "testdata", "cli", "not-an-image.png"))
	if err != nil {
		t.Fatal(err)
	}
	ones := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat("1,", n), ",") + "]" }
	in := func(dt, shape, data string) string {
		return `{"inputs":[{"name":"input","datatype":"` + dt + `","shape":` + shape + `,"data":` + data + `}]}`
	}
	mlp, mf, lm := "/v2/models/mlp/infer", "/v2/models/mf/infer", "/v2/models/lm/infer"
	cases := []struct {
		name, method, path, body string
		code                     int
		want                     string
	}{
		// The body is not an inference request.
		{"bad JSON", "POST", mlp, `{"inputs": [`, 400, "not valid JSON"},
		{"trailing garbage", "POST", mlp, image + "x", 400, "not valid JSON"},
		{"array body", "POST", mlp, `[1, 2]`, 400, "a JSON array, want an object"},
		{"empty body", "POST", mlp, ``, 400, "empty request body"},
		{"shape of strings", "POST", mlp, in("FP32", `["1"]`, "[1]"), 400, "inputs.shape is a JSON string"},
		{"shape past int64", "POST", mlp, in("FP32", `[1e30, 784]`, "[1]"), 400, "inputs.shape is a JSON number 1e30"},
		{"no inputs", "POST", mlp, `{"inputs": []}`, 400, `takes one input, "input"; the request has 0`},
		{"two inputs", "POST", mlp, `{"inputs": [{"name":"input"},{"name":"input"}]}`, 400, "the request has 2"},
		{"unknown input", "POST", mlp, `{"inputs":[{"name":"pixels","datatype":"FP32","shape":[1,1,28,28],"data":[1]}]}`, 400, `unknown input "pixels"`},
		// Shapes.
		{"flat shape", "POST", mlp, in("FP32", "[1, 784]", ones(784)), 400, "shape [1 784], want [-1 1 28 28]"},
		{"no rows", "POST", mlp, in("FP32", "[0, 1, 28, 28]", "[]"), 400, "no rows"},
		{"negative rows", "POST", mlp, in("FP32", "[-1, 1, 28, 28]", "[]"), 400, "no rows"},
		{"pair of three", "POST", mf, in("INT64", "[1, 3]", "[1, 2, 3]"), 400, "shape [1 3], want [-1 2]"},
		// Datatypes.
		{"INT64 image", "POST", mlp, in("INT64", "[1, 1, 28, 28]", ones(784)), 400, `datatype "INT64", want FP32`},
		{"BYTES image", "POST", mlp, in("BYTES", "[1, 1, 28, 28]", ones(784)), 400, `datatype "BYTES"`},
		{"no datatype", "POST", mlp, `{"inputs":[{"name":"input","shape":[1,1,28,28],"data":[1]}]}`, 400, `datatype ""`},
		{"BOOL pairs", "POST", mf, in("BOOL", "[1, 2]", "[true, false]"), 400, `datatype "BOOL", want INT64`},
		// Data against shape.
		{"too few values", "POST", mlp, in("FP32", "[1, 1, 28, 28]", ones(10)), 400, "data holds fewer values than the 784 of shape [1 1 28 28]"},
		{"one value short", "POST", mlp, in("FP32", "[1, 1, 28, 28]", ones(783)), 400, "data holds 783 values, shape [1 1 28 28] holds 784"},
		{"too many values", "POST", mlp, in("FP32", "[1, 1, 28, 28]", ones(785)), 400, "more than the 784 values"},
		{"no data", "POST", mlp, `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1,28,28]}]}`, 400, "no data"},
		{"data not an array", "POST", mf, in("INT64", "[1, 2]", `{"a": 1}`), 400, "data is an object, not an array"},
		{"nesting short", "POST", mf, in("INT64", "[2, 2]", "[[1, 10], [3]]"), 400, "holds 1 values, dimension 1 of shape [2 2] is 2"},
		{"nesting long", "POST", mf, in("INT64", "[2, 2]", "[[1, 10], [3, 40, 50]]"), 400, "more than the 2 values of dimension 1"},
		{"nesting deep", "POST", mf, in("INT64", "[1, 2]", "[[[1], [2]]]"), 400, "is an array where shape [1 2] has numbers"},
		{"nesting mixed", "POST", mf, in("INT64", "[2, 2]", "[[1, 10], 3, 40]"), 400, "is a number where shape [2 2] has an array"},
		{"array in flat data", "POST", mf, in("INT64", "[1, 2]", "[1, [2]]"), 400, "element 1 is an array, not a number"},
		// Values.
		{"NaN string", "POST", mlp, in("FP32", "[1, 1, 28, 28]", `["NaN",`+ones(783)[1:]), 400, `element 0 is a string, "NaN", not a number (JSON numbers are finite`},
		{"Infinity string", "POST", mlp, in("FP32", "[1, 1, 28, 28]", ones(783)[:len(ones(783))-1]+`,"Infinity"]`), 400, `element 783 is a string, "Infinity"`},
		{"huge exponent", "POST", mlp, in("FP32", "[1, 1, 28, 28]", `[1e999,`+ones(783)[1:]), 400, "element 0: 1e999 is not a finite FP32 value"},
		{"past float32", "POST", mlp, in("FP64", "[1, 1, 28, 28]", `[1e300,`+ones(783)[1:]), 400, "1e300 is beyond the range of FP32"},
		{"null value", "POST", mlp, in("FP32", "[1, 1, 28, 28]", `[null,`+ones(783)[1:]), 400, "element 0 is null, not a number"},
		// A rating model takes the dataset's ids: users 1 to 8, movies 10 to 110.
		{"unknown user", "POST", mf, in("INT64", "[2, 2]", "[[1, 10], [9, 10]]"), 400, "element 2: row 1's user id 9: dataset "},
		{"unknown movie", "POST", mf, in("INT64", "[1, 2]", "[1, 15]"), 400, "row 0's movie id 15: dataset "},
		{"index, not id", "POST", mf, in("INT64", "[1, 2]", "[0, 0]"), 400, "row 0's user id 0: dataset "},
		{"negative user", "POST", mf, in("INT32", "[1, 2]", "[-1, 10]"), 400, "row 0's id -1 is outside 0 to 2^53"},
		{"fractional movie", "POST", mf, in("FP32", "[1, 2]", "[1, 10.5]"), 400, "row 0's id 10.5 is not a whole number"},
		{"user past INT32", "POST", mf, in("INT32", "[1, 2]", "[4294967296, 10]"), 400, "outside INT32's range"},
		{"huge user", "POST", mf, in("INT64", "[1, 2]", "[1e999, 10]"), 400, "row 0's id 1e999 is not a finite number"},
		{"token past vocabulary", "POST", lm, in("INT64", "[1, 6]", "[0, 1, 2, 3, 4, 99]"), 400, "row 0's token id 99 is outside 0 to"},
		// Outputs and parameters.
		{"unknown output", "POST", mlp, strings.TrimSuffix(image, "}") + `,"outputs":[{"name":"logits"}]}`, 400, `unknown output "logits": model mlp has probabilities, top_classes`},
		{"output twice", "POST", mlp, strings.TrimSuffix(image, "}") + `,"outputs":[{"name":"probabilities"},{"name":"probabilities"}]}`, 400, "asked for twice"},
		{"top zero", "POST", mlp, strings.TrimSuffix(image, "}") + `,"parameters":{"top":0}}`, 400, "parameter top: 0 is not a positive whole number"},
		{"top a string", "POST", mlp, strings.TrimSuffix(image, "}") + `,"parameters":{"top":"x"}}`, 400, "parameter top"},
		{"classification elsewhere", "POST", mlp, strings.TrimSuffix(image, "}") + `,"outputs":[{"name":"probabilities","parameters":{"classification":2}}]}`, 400, `parameter classification is for output "top_classes"`},
		// Sizes.
		{"body past --max-body", "POST", mlp, in("FP32", "[1, 1, 28, 28]", "["+strings.Repeat(" ", maxBody)+"1]"), 413, "more than the 1048576 the server takes"},
		// Paths, models, methods.
		{"unknown model", "POST", "/v2/models/nope/infer", image, 404, `unknown model "nope" (serving lm, mf, mlp)`},
		{"unknown model metadata", "GET", "/v2/models/nope", "", 404, `unknown model "nope"`},
		{"unknown version", "GET", "/v2/models/mlp/versions/2", "", 404, `model mlp has no version "2"`},
		{"unknown path", "GET", "/v1/models/mlp", "", 404, `unknown path "/v1/models/mlp"`},
		{"trailing slash", "GET", "/v2/", "", 404, "unknown path"},
		{"GET infer", "GET", mlp, "", 405, "method GET not allowed: /v2/models/{name}/infer takes POST"},
		{"POST health", "POST", "/v2/health/live", "", 405, "method POST not allowed: /v2/health/live takes GET"},
		{"DELETE model", "DELETE", "/v2/models/mlp", "", 405, "method DELETE not allowed"},
		// predict-image and recommend.
		{"image to a rating model", "POST", "/v2/models/mf/predict-image", string(png), 400, "model mf is a rating model over inputs of shape [2]: predict-image takes an image classifier"},
		{"not an image", "POST", "/v2/models/mlp/predict-image", string(notImage), 400, "request body: not a PNG, JPEG, GIF or WebP image"},
		{"truncated image", "POST", "/v2/models/mlp/predict-image", string(png[:len(png)/2]), 400, "request body: not a readable PNG image"},
		{"no image", "POST", "/v2/models/mlp/predict-image", "", 400, "empty request body: send a PNG, JPEG, GIF or WebP image"},
		{"image top zero", "POST", "/v2/models/mlp/predict-image?top=0", string(png), 400, `top="0": want a positive whole number`},
		{"image invert maybe", "POST", "/v2/models/mlp/predict-image?invert=maybe", string(png), 400, `invert="maybe"`},
		{"image of 60000x60000", "POST", "/v2/models/mlp/predict-image", fixture(t, "image-png-60000x60000.png"), 413, "60000x60000 pixels, more than the 89478485"},
		{"16-bit RGBA image of 512 MB", "POST", "/v2/models/mlp/predict-image", pngHeader(8000, 8000, 16, 6), 413, "PNG image of 8000x8000 pixels would take 488.3 MiB to decode, more than the 64.0 MiB allowed (--max-image-bytes)"},
		{"16-bit image past --max-image-bytes", "POST", "/v2/models/mlp/predict-image", pngHeader(9459, 9459, 16, 0), 413, "PNG image of 9459x9459 pixels would take 170.7 MiB to decode"},
		{"GET predict-image", "GET", "/v2/models/mlp/predict-image", "", 405, "takes POST"},
		{"recommend to a classifier", "GET", "/v2/models/mlp/recommend?user=1", "", 400, "model mlp is a classify model: recommend takes a rating model"},
		{"recommend to no one", "GET", "/v2/models/mf/recommend", "", 400, "no user"},
		{"recommend to a word", "GET", "/v2/models/mf/recommend?user=bob", "", 400, `user="bob"`},
		{"recommend to a stranger", "GET", "/v2/models/mf/recommend?user=99", "", 404, "unknown user id 99"},
		{"recommend none", "GET", "/v2/models/mf/recommend?user=1&top=-2", "", 400, `top="-2"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			ct := "application/json"
			if strings.HasSuffix(c.path, "predict-image") {
				ct = "image/png"
			}
			code, b := call(t, c.method, base+c.path, ct, body)
			checkError(t, code, b, c.code, c.want)
		})
	}

	// A body is read only under its own content type: a web page can post
	// text/plain, forms and multipart across origins without asking first.
	for _, c := range []struct{ path, ct, body, want string }{
		{mlp, "text/plain", image, `Content-Type "text/plain": /v2/models/{name}/infer takes application/json`},
		{mlp, "application/x-www-form-urlencoded", image, "takes application/json"},
		{mlp, "multipart/form-data; boundary=x", image, "takes application/json"},
		{mlp, "", image, "Content-Type none: /v2/models/{name}/infer takes application/json"},
		{mlp, "image/png", image, "takes application/json"},
		{"/v2/models/mlp/predict-image", "application/json", string(png), "/v2/models/{name}/predict-image takes image/png or image/jpeg"},
		{"/v2/models/mlp/predict-image", "text/plain", string(png), "takes image/png or image/jpeg"},
		{"/v2/models/mlp/predict-image", "", string(png), "Content-Type none"},
	} {
		code, b := call(t, "POST", base+c.path, c.ct, strings.NewReader(c.body))
		checkError(t, code, b, http.StatusUnsupportedMediaType, c.want)
	}
	for _, ct := range []string{"application/json; charset=utf-8", "application/vnd.kserve+json", "APPLICATION/JSON"} {
		if code, b := call(t, "POST", base+mlp, ct, strings.NewReader(image)); code != http.StatusOK {
			t.Errorf("Content-Type %q: %d %s", ct, code, b)
		}
	}
	for _, ct := range []string{"image/png", "image/jpeg", "image/jpg"} {
		if code, b := call(t, "POST", base+"/v2/models/mlp/predict-image", ct, bytes.NewReader(png)); code != http.StatusOK {
			t.Errorf("Content-Type %q: %d %s", ct, code, b)
		}
	}

	// On a loopback address only requests to a local name are answered,
	// so a page elsewhere cannot reach the server through a name of its
	// own that resolves to 127.0.0.1.
	for host, want := range map[string]int{"localhost:8080": 200, "127.0.0.1": 200, "[::1]:1": 200, "evil.example": 403, "evil.example:8080": 403} {
		req, _ := http.NewRequest("POST", base+mlp, strings.NewReader(image))
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want == 200 && resp.StatusCode != 200 {
			t.Errorf("Host %s: %d %s", host, resp.StatusCode, b)
		} else if want == 403 {
			checkError(t, resp.StatusCode, b, 403, "answers only requests addressed to localhost")
		}
	}

	// A body past the limit without a Content-Length (chunked) is stopped
	// as it is read.
	code, b := call(t, "POST", base+mlp, "application/json", io.MultiReader(strings.NewReader(`{"inputs":[{"data":[`), bytes.NewReader(bytes.Repeat([]byte("1,"), maxBody))))
	checkError(t, code, b, 413, "request body: more than the 1048576 bytes the server takes")

	// 405 says what is allowed.
	req, _ := http.NewRequest("PUT", base+mlp, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("PUT infer: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}

	// Still serving.
	infer(t, base, "mlp", image)
}

// fixture returns the contents of a datasets fixture.
func fixture(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "datasets", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkError checks that an answer is an error of status want with a
// JSON body {"error": "..."} of one line holding msg.
func checkError(t *testing.T, code int, body []byte, want int, msg string) {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("status %d, body not JSON (%v): %s", code, err, body)
	}
	s, ok := e["error"].(string)
	if code != want || !ok || len(e) != 1 || strings.Contains(s, "\n") || !strings.Contains(s, msg) {
		t.Errorf("status %d, body %s\nwant %d and {\"error\": one line holding %q}", code, body, want, msg)
	}
}

// pngHeader returns the start of a PNG (its signature, an IHDR chunk
// declaring width×height at depth bits of color type ct, and a few bytes
// of IDAT): enough for image.DecodeConfig, never decoded.
func pngHeader(width, height uint32, depth, ct byte) string {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, c.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(nil, width)
	ihdr = binary.BigEndian.AppendUint32(ihdr, height)
	chunk("IHDR", append(ihdr, depth, ct, 0, 0, 0))
	chunk("IDAT", []byte{0x78, 0x9c})
	return b.String()
}

// At most MaxDecodes images are decoded at once: a request that finds
// every slot taken for DecodeWait gets 503 with Retry-After, and is
// served once a slot is free.
func TestDecodesAreBounded(t *testing.T) {
	s, base := startServer(t, serve.Options{MaxDecodes: 2}, runs.mlp)
	png, err := os.ReadFile(filepath.Join("..", "testdata", "cli", "gray-28x28.png"))
	if err != nil {
		t.Fatal(err)
	}
	url := base + "/v2/models/mlp/predict-image"
	release := serve.HoldDecodes(s)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(png))
	req.Header.Set("Content-Type", "image/png")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		release()
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkError(t, resp.StatusCode, b, http.StatusServiceUnavailable, "the server is decoding 2 images, as many as it decodes at once")
	if ra := resp.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
	release()
	if code, b := call(t, "POST", url, "image/png", bytes.NewReader(png)); code != http.StatusOK {
		t.Errorf("after the slots were freed: %d %s", code, b)
	}
}
