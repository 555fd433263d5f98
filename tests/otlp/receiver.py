"""An OTLP/HTTP trace receiver for the tests, decoding with the official schema.

It parses every `POST /v1/traces` body into `ExportTraceServiceRequest` from the
`opentelemetry-proto` package (the protocol's own generated classes): protobuf bodies
(what a collector such as rotel exports) and OTLP/JSON bodies (ids checked as hex of
the right length and enums as integers, then protobuf's `json_format.ParseDict`, which
rejects unknown field names and wrong types).
Each accepted request is appended to the output file as one JSON line (the canonical
proto3 JSON mapping, with ids converted to lowercase hex as OTLP/JSON writes them).
A body that does not parse gets `400` and is recorded as an error line.

Usage: receiver.py OUTPUT_FILE   (prints the port it listens on, on 127.0.0.1, then serves)
"""

import base64
import gzip
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


ID_LENGTHS = {"traceId": 16, "spanId": 8, "parentSpanId": 8}


def otlp_json_to_proto3_json(value, path="$"):
    """Checks the OTLP/JSON deviations from proto3 JSON and undoes them, so that
    `json_format.Parse` (which rejects unknown field names and wrong types) can check
    the rest: ids must be lowercase or uppercase hex of the right length (proto3 JSON
    would read them as base64), enums must be integers (proto3 JSON would also take
    their names)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            where = f"{path}.{key}"
            if key in ID_LENGTHS:
                raw = bytes.fromhex(item)  # ValueError unless hex
                if len(raw) != ID_LENGTHS[key]:
                    raise ValueError(f"{where}: {len(raw)} bytes, expected {ID_LENGTHS[key]}")
                out[key] = base64.b64encode(raw).decode()
            elif key in ("kind", "code") and not isinstance(item, int):
                raise ValueError(f"{where}: enums are integers in OTLP/JSON, not {item!r}")
            else:
                out[key] = otlp_json_to_proto3_json(item, where)
        return out
    if isinstance(value, list):
        return [otlp_json_to_proto3_json(item, f"{path}[{index}]") for index, item in enumerate(value)]
    return value


def hex_ids(value):
    """proto3 JSON writes bytes as base64; OTLP/JSON writes trace and span ids as hex."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(item, str):
                out[key] = base64.b64decode(item).hex()
            else:
                out[key] = hex_ids(item)
        return out
    if isinstance(value, list):
        return [hex_ids(item) for item in value]
    return value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def answer(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self, line):
        with open(self.server.output, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")

    def do_POST(self):  # noqa: N802 - the http.server API
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            body = gzip.decompress(body)
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if self.path != "/v1/traces":
            self.record({"error": f"unexpected path {self.path}"})
            self.answer(404, b"", "text/plain")
            return
        request = ExportTraceServiceRequest()
        try:
            if content_type == "application/json":
                document = otlp_json_to_proto3_json(json.loads(body.decode("utf-8")))
                json_format.ParseDict(document, request)
            else:
                request.ParseFromString(body)
        except Exception as error:  # noqa: BLE001 - any parse failure is a 400
            self.record({"error": f"{type(error).__name__}: {error}", "content_type": content_type})
            self.answer(400, str(error).encode(), "text/plain")
            return
        self.record(
            {
                "content_type": content_type,
                "user_agent": self.headers.get("User-Agent"),
                "request": hex_ids(json_format.MessageToDict(request)),
            }
        )
        if content_type == "application/json":
            self.answer(200, b"{}", "application/json")
        else:
            self.answer(200, ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.output = sys.argv[1]
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
