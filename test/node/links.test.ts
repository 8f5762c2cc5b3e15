// No relative link in README.md, docs/, emulator/README.md or bench/README.md is dead: every one
// names a file of the repository, and every #fragment a heading of that file (GitHub's anchors).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { expect, test } from "vitest";

const documents = ["README.md", "CHANGELOG.md", "emulator/README.md", "bench/README.md", "examples/existing-app/README.md", ...readdirSync("docs").filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map(([, heading]) => anchor(heading!)));
}

test.each(documents)("%s has no dead relative link", (document) => {
  const text = readFileSync(document, "utf8").replace(/```[\s\S]*?```/g, "");
  const dead: string[] = [];
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target!)) continue;
    const [path, fragment] = target!.split("#") as [string, string | undefined];
    const file = path === "" ? document : normalize(join(dirname(document), decodeURI(path)));
    if (!existsSync(file)) dead.push(target!);
    else if (fragment !== undefined && file.endsWith(".md") && !anchorsOf(file).has(fragment)) dead.push(target!);
  }
  expect(dead).toEqual([]);
});
