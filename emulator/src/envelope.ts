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

/**
 * One page of a list, with Cloudflare's V4 `result_info` (`page` and `per_page` in the query,
 * from 1 and 20 by default, at most 100 a page).
 */
export function page<T>(items: readonly T[], query: { page?: string; per_page?: string }): Response {
  const perPage = Math.min(100, Math.max(1, Number.parseInt(query.per_page ?? "", 10) || 20));
  const number = Math.max(1, Number.parseInt(query.page ?? "", 10) || 1);
  const result = items.slice((number - 1) * perPage, number * perPage);
  const result_info = {
    page: number,
    per_page: perPage,
    count: result.length,
    total_count: items.length,
    total_pages: Math.ceil(items.length / perPage),
  };
  return new Response(JSON.stringify({ result, result_info, success: true, errors: [], messages: [] }), { headers: JSON_TYPE });
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
