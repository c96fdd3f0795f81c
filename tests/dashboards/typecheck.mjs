// typecheck.mjs - type-check dashboards/*.json against @grafana/schema with tsc.
//
//   node tests/dashboards/typecheck.mjs FILE.json...
//
// Writes each dashboard as `export const dashboard: RedtapDashboard = <JSON>;`
// into a temporary directory, runs tsc --noEmit over them (types in
// typecheck/schema.ts), and prints one PASS/FAIL line per dashboard with the
// compiler's messages. Also checks schemaVersion against the package's
// defaultDashboard. Exits 1 if any dashboard fails. Needs `npm ci` in
// tests/dashboards first.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'package.json'));
const { defaultDashboard } = require('@grafana/schema');
const tsc = join(here, 'node_modules', 'typescript', 'bin', 'tsc');
const schema = join(here, 'typecheck', 'schema.ts');

const files = process.argv.slice(2).map((f) => resolve(f));
const tmp = mkdtempSync(join(tmpdir(), 'redtap-typecheck-'));
let failed = 0;
try {
  const modules = files.map((file, i) => {
    const json = readFileSync(file, 'utf8');
    const mod = join(tmp, `dashboard${i}.ts`);
    writeFileSync(
      mod,
      `import type { RedtapDashboard } from ${JSON.stringify(schema.replace(/\.ts$/, ''))};\n` +
        `export const dashboard: RedtapDashboard = ${json};\n`,
    );
    return mod;
  });
  writeFileSync(
    join(tmp, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        module: 'esnext',
        moduleResolution: 'bundler',
        skipLibCheck: true,
        types: [],
      },
      files: [schema, ...modules],
    }),
  );
  let output = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', join(tmp, 'tsconfig.json'), '--pretty', 'false'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    output = `${e.stdout || ''}${e.stderr || ''}`;
    if (!output.trim()) throw e;
  }
  const lines = output.split('\n').filter((l) => l.trim());
  const schemaErrors = lines.filter((l) => l.includes('schema.ts'));
  if (schemaErrors.length) {
    console.log('FAIL typecheck/schema.ts compiles against @grafana/schema');
    schemaErrors.forEach((l) => console.log(`    ${l}`));
    failed++;
  }
  files.forEach((file, i) => {
    const name = basename(file);
    const errs = lines.filter((l) => l.includes(`dashboard${i}.ts`));
    const dash = JSON.parse(readFileSync(file, 'utf8'));
    if (dash.schemaVersion !== defaultDashboard.schemaVersion) {
      const current = defaultDashboard.schemaVersion;
      errs.push(`schemaVersion ${dash.schemaVersion}; @grafana/schema's current is ${current}`);
    }
    if (errs.length) {
      console.log(`FAIL ${name}: matches the @grafana/schema dashboard types`);
      errs.forEach((l) => console.log(`    ${l.replace(/\S*dashboard\d+\.ts/, name)}`));
      failed++;
    } else {
      console.log(`PASS ${name}: matches the @grafana/schema dashboard types`);
    }
  });
  const other = lines.filter((l) => /error TS/.test(l) && !/dashboard\d+\.ts|schema\.ts/.test(l));
  if (other.length) {
    console.log('FAIL tsc reported errors outside the dashboards');
    other.forEach((l) => console.log(`    ${l}`));
    failed++;
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
