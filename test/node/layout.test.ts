// The layers of src/ (docs/design.md › Layout): the table there is the rule, read here, and every
// import of src/ (type-only ones too) is held to it by dependency-cruiser: a folder imports only
// from the rows below its own, so no import runs back up and there is no cycle.
import { cruise, type ICruiseResult, type IForbiddenRuleType } from "dependency-cruiser";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** The Layout table's rows, top to bottom: each the folders (`name/`) and files (`name.ts`) in it. */
async function layers(): Promise<string[][]> {
  const design = await readFile(join(root, "docs/design.md"), "utf8");
  const section = /^## Layout\n([\s\S]*?)(?=^## )/m.exec(design)?.[1] ?? "";
  return section
    .split("\n")
    .filter((line) => line.startsWith("|") && !line.startsWith("|---") && !line.startsWith("| row"))
    .map((line) => [...(line.split("|")[2] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ""));
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A unit as a path pattern under src/. */
const pattern = (unit: string) => `^src/${escape(unit)}${unit.endsWith("/") ? "" : "$"}`;

/** For each unit: importing a unit of its own row (not itself) or of a row above is forbidden. */
function rules(rows: string[][]): IForbiddenRuleType[] {
  return rows.flatMap((row, index) =>
    row.map((unit) => {
      const upward = [...rows.slice(0, index).flat(), ...row.filter((other) => other !== unit)];
      return {
        name: `layer:${unit}`,
        severity: "error" as const,
        from: { path: pattern(unit) },
        to: { path: upward.length === 0 ? "^$" : upward.map(pattern).join("|") },
      };
    }),
  );
}

let rows: string[][];
let result: ICruiseResult;

beforeAll(async () => {
  rows = await layers();
  const output = await cruise(["src"], {
    baseDir: root,
    validate: true,
    ruleSet: { forbidden: [...rules(rows), { name: "no-cycle", severity: "error", from: {}, to: { circular: true } }] },
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(?!src/)" },
  }, undefined, { tsConfig: { fileName: join(root, "tsconfig.json") } });
  result = output.output as ICruiseResult;
}, 60_000);

describe("the layers of src/ (docs/design.md › Layout)", () => {
  test("every folder and top-level file of src/ has its row", async () => {
    const entries = await readdir(join(root, "src"), { withFileTypes: true });
    const units = entries.map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name)).sort();
    expect(rows.flat().sort()).toEqual(units);
  });

  test("the import graph was read whole (a broken reading would find nothing to refuse)", () => {
    expect(result.summary.totalCruised).toBeGreaterThan(80);
    const library = result.modules.find((module) => module.source === "src/library.ts");
    expect(library?.dependencies.some((dependency) => dependency.resolved.startsWith("src/app/"))).toBe(true);
    const ours = result.modules.filter((module) => module.source.startsWith("src/")).flatMap((module) => module.dependencies.map((dependency) => ({ from: module.source, ...dependency })));
    // Every relative import resolved to a file, and type-only imports are in the graph too.
    expect(ours.filter((dependency) => dependency.module.startsWith(".") && dependency.couldNotResolve).map((dependency) => `${dependency.from} → ${dependency.module}`)).toEqual([]);
    expect(ours.some((dependency) => dependency.dependencyTypes.includes("type-only"))).toBe(true);
  });

  test("no import runs back up a row, none stays within a row, and there is no cycle", () => {
    const found = result.summary.violations.map((violation) => `${violation.rule.name}: ${violation.from} → ${violation.to}`);
    expect(found).toEqual([]);
  });
});
