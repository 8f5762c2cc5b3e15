import { Hono } from "hono";

const app = new Hono<{ Bindings: Env }>();

// Liveness only: no I/O, so it is also the benchmark baseline.
app.get("/healthz", (c) => c.json({ ok: true }));

export default app;
