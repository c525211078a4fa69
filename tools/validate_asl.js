#!/usr/bin/env node
// Validates Amazon States Language definitions with two validators written by others:
//   - asl-validator (JSON schemas, paths, transitions, ARNs);
//   - amazon-states-language-service (the validator behind the AWS Toolkit for VS Code).
// Both are pinned in package.json / package-lock.json and installed by `make` (npm ci).
//
// Usage: node tools/validate_asl.js [--json] FILE...   ("-" reads one definition from stdin)
// The definitions must be substituted already (no ${...} left): the template's
// DefinitionSubstitutions are filled in by tests/unit/test_asl_validators.py.
// Prints each file's errors and warnings (--json: one JSON document on stdout).
// Exit status: 0 no error, 1 an error in some file, 2 the command could not run.
"use strict";

const fs = require("fs");

let aslValidator, getLanguageService, TextDocument, DiagnosticSeverity;
try {
  aslValidator = require("asl-validator");
  ({ getLanguageService, DiagnosticSeverity } = require("amazon-states-language-service"));
  ({ TextDocument } = require("vscode-languageserver-textdocument"));
} catch (error) {
  console.error(`${error.message}\nThe ASL validators are not installed: run \`make\` (npm ci).`);
  process.exit(2);
}

const SEVERITY = {
  [DiagnosticSeverity.Error]: "error",
  [DiagnosticSeverity.Warning]: "warning",
  [DiagnosticSeverity.Information]: "information",
  [DiagnosticSeverity.Hint]: "hint",
};

function runAslValidator(text) {
  let definition;
  try {
    definition = JSON.parse(text);
  } catch (error) {
    return [`not JSON: ${error.message}`];
  }
  // The validator writes default QueryLanguage fields into what it is given: a parsed copy.
  const { errors } = aslValidator(definition);
  return errors.map((e) => `${e["Error code"]}: ${e.Message}`);
}

async function runLanguageService(service, uri, text) {
  const document = TextDocument.create(uri, "asl", 1, text);
  const diagnostics = await service.doValidation(document, service.parseJSONDocument(document));
  const found = { error: [], warning: [], information: [], hint: [] };
  for (const d of diagnostics) {
    const where = `${d.range.start.line + 1}:${d.range.start.character + 1}`;
    // A diagnostic without a severity is an error (the Language Server Protocol's rule).
    found[SEVERITY[d.severity ?? DiagnosticSeverity.Error]].push(`${where} ${d.message}`);
  }
  return found;
}

async function main(argv) {
  const json = argv.includes("--json");
  const files = argv.filter((a) => a !== "--json");
  if (files.length === 0) {
    console.error("usage: node tools/validate_asl.js [--json] FILE... (- for stdin)");
    return 2;
  }
  const service = getLanguageService({});
  const results = [];
  for (const file of files) {
    const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
    if (text.includes("${")) {
      console.error(`${file}: \${...} placeholders left: fill in DefinitionSubstitutions first`);
    }
    const uri = `file:///${encodeURIComponent(file === "-" ? "stdin.asl.json" : file)}`;
    const diagnostics = await runLanguageService(service, uri, text);
    results.push({
      file,
      "asl-validator": { errors: runAslValidator(text) },
      "amazon-states-language-service": {
        errors: diagnostics.error,
        warnings: diagnostics.warning,
        information: diagnostics.information.concat(diagnostics.hint),
      },
    });
  }
  if (json) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    for (const result of results) {
      const asl = result["asl-validator"];
      const service = result["amazon-states-language-service"];
      console.log(
        `${result.file}: asl-validator ${asl.errors.length} error(s); ` +
          `amazon-states-language-service ${service.errors.length} error(s), ` +
          `${service.warnings.length} warning(s)`,
      );
      for (const e of asl.errors) console.log(`  asl-validator error: ${e}`);
      for (const kind of ["errors", "warnings", "information"]) {
        for (const d of service[kind]) console.log(`  language service ${kind}: ${d}`);
      }
    }
  }
  const failed = results.some(
    (r) =>
      r["asl-validator"].errors.length > 0 ||
      r["amazon-states-language-service"].errors.length > 0,
  );
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error) => {
    console.error(error.stack || String(error));
    process.exitCode = 2;
  },
);
