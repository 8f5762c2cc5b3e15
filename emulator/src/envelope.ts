// Stream's API envelope (Cloudflare's API reference; docs/stream-behaviour.md §5): every answer has `result`, `success`, `errors` and
// `messages`; failures carry `result: null` and at least one `{code, message}`.

export interface ApiError {
  code: number;
  message: string;
  error_chain?: ApiError[];
}

const JSON_TYPE = { "content-type": "application/json; charset=utf-8" };

export function ok(result: unknown, status = 200): Response {
  return new Response(JSON.stringify({ result, success: true, errors: [], messages: [] }), {
    status,
    headers: JSON_TYPE,
  });
}

export function fail(status: number, errors: ApiError[], headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ result: null, success: false, errors, messages: [] }), {
    status,
    headers: { ...JSON_TYPE, ...headers },
  });
}

/** What Cloudflare answers for an unknown route or object identifier (docs/stream-behaviour.md §5). */
export function noRoute(path: string): Response {
  return fail(404, [
    { code: 7003, message: `Could not route to ${path}, perhaps your object identifier is invalid?` },
    { code: 7000, message: "No route for that URI" },
  ]);
}

/** Stream's generic bad-request answer; the code follows Miniflare's Stream simulator. */
export function badRequest(message: string): Response {
  return fail(400, [{ code: 10005, message: `Bad Request: ${message}` }]);
}
