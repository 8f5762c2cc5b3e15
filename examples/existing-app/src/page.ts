// The shop's two pages. `html` escapes every interpolated value.
import { html } from "hono/html";
import type { Purchase } from "./purchases";

const layout = (body: unknown, head: unknown = "") => html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Example shop</title>
    ${head}
  </head>
  <body>
    ${body}
  </body>
</html>`;

export const signInPage = (error?: string) =>
  layout(html`<h1>Sign in</h1>
    ${error ? html`<p role="alert">${error}</p>` : ""}
    <form method="post" action="/login">
      <label>Email <input name="email" type="email" autocomplete="username" required /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <button>Sign in</button>
    </form>`);

// The buttons ask the gateway where src/index.ts mounts it; /shop.js (client/shop.ts) defines
// them and hands them the CSRF token from the meta tag.
export const shopPage = (email: string, purchases: Purchase[], csrfToken: string) =>
  layout(
    html`<h1>Your videos</h1>
      <p>Signed in as ${email}.</p>
      <form method="post" action="/logout"><button>Sign out</button></form>
      ${purchases.length === 0 ? html`<p>You have not bought any videos yet.</p>` : ""}
      <ul>
        ${purchases.map(
          ({ videoUid, title }) => html`<li>
            ${title}
            <stream-download uid="${videoUid}" type="default" gateway="/downloads" filename="${title}"></stream-download>
            <stream-download uid="${videoUid}" type="audio" gateway="/downloads" filename="${title}"></stream-download>
          </li>`,
        )}
      </ul>`,
    html`<meta name="csrf-token" content="${csrfToken}" />
      <script type="module" src="/shop.js"></script>`,
  );
