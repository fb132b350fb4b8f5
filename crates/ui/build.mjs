// Builds the UI bundle into dist/: index.html, hashed assets and their
// gzip and brotli forms. The output depends only on the sources and the
// lock file (no timestamps), so check-bundle.sh can compare it byte for
// byte with the committed dist/.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const out = process.argv[2] || 'dist';
const result = await esbuild.build({
  entryPoints: ['src/main.tsx'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: 'out',
  entryNames: 'app',
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
});

rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/assets`, { recursive: true });
const names = {};
for (const f of result.outputFiles) {
  const ext = f.path.endsWith('.css') ? 'css' : 'js';
  const hash = createHash('sha256').update(f.contents).digest('hex').slice(0, 12);
  const name = `assets/app-${hash}.${ext}`;
  names[ext] = name;
  write(name, f.contents);
}
const html = readFileSync('web/index.html', 'utf8')
  .replace('%CSS%', names.css)
  .replace('%JS%', names.js);
write('index.html', Buffer.from(html));

function write(name, bytes) {
  writeFileSync(`${out}/${name}`, bytes);
  writeFileSync(`${out}/${name}.gz`, gzipSync(bytes, { level: 9 }));
  writeFileSync(
    `${out}/${name}.br`,
    brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
}
