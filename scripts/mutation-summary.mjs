// Prints the mutation score per module of a Stryker JSON report as a markdown table, and the
// surviving mutants (file:line, mutator, replacement) for docs/reliability/mutation.md.
// Usage: node scripts/mutation-summary.mjs [reports/mutation/mutation.json] [--survivors]

import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const path = args.find((a) => !a.startsWith("--")) ?? "reports/mutation/mutation.json";
const report = JSON.parse(readFileSync(path, "utf8"));

const DETECTED = new Set(["Killed", "Timeout"]);
const UNDETECTED = new Set(["Survived", "NoCoverage"]);

console.log("| Module | Mutants | Killed | Timeout | Survived | No coverage | Errors | Score |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
const survivors = [];
for (const [file, { mutants }] of Object.entries(report.files).sort()) {
  const count = (status) => mutants.filter((m) => m.status === status).length;
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
  const undetected = mutants.filter((m) => UNDETECTED.has(m.status)).length;
  const errors = count("RuntimeError") + count("CompileError");
  // Stryker's own definition: detected / (detected + undetected); errors and ignored left out.
  const score = detected + undetected === 0 ? "n/a" : `${((100 * detected) / (detected + undetected)).toFixed(1)} %`;
  console.log(`| ${file} | ${mutants.length} | ${count("Killed")} | ${count("Timeout")} | ${count("Survived")} | ${count("NoCoverage")} | ${errors} | ${score} |`);
  for (const m of mutants) if (UNDETECTED.has(m.status)) survivors.push({ file, ...m });
}
if (args.includes("--survivors")) {
  console.log("");
  for (const m of survivors) {
    const replacement = String(m.replacement ?? "").replace(/\s+/g, " ").slice(0, 100);
    console.log(`- ${m.file}:${m.location.start.line} ${m.status} ${m.mutatorName}: \`${replacement}\``);
  }
}
