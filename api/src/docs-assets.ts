/**
 * The interactive reference at /docs: Swagger UI from the swagger-ui-dist package, served by the API itself (no CDN),
 * started by a script file of ours so the page's Content-Security-Policy can forbid inline scripts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const SWAGGER_UI = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The files /docs/assets/{file} serves: the package's bundle, style sheet and icon, and our start-up script. */
export const DOCS_ASSETS = {
  'swagger-ui.css': { type: 'text/css', source: join(SWAGGER_UI, 'swagger-ui.css') },
  'swagger-ui-bundle.js': { type: 'text/javascript', source: join(SWAGGER_UI, 'swagger-ui-bundle.js') },
  'favicon-32x32.png': { type: 'image/png', source: join(SWAGGER_UI, 'favicon-32x32.png') },
  'start.js': {
    type: 'text/javascript',
    // validatorUrl null: the UI would otherwise send the document to validator.swagger.io.
    text: `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null });\n`,
  },
} as const satisfies Record<string, { type: string; source?: string; text?: string }>;
export type DocsAsset = keyof typeof DOCS_ASSETS;

/** No script, style, image, font or request from anywhere but this origin; nothing inline, no framing. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>airq air-quality API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/start.js"></script>
</body>
</html>
`;

const loaded = new Map<DocsAsset, Buffer>();
/** An asset's bytes, read from the package once. */
export function docsAsset(name: DocsAsset): Buffer {
  let bytes = loaded.get(name);
  if (!bytes) {
    const asset: { source?: string; text?: string } = DOCS_ASSETS[name];
    bytes = asset.text !== undefined ? Buffer.from(asset.text) : readFileSync(asset.source as string);
    loaded.set(name, bytes);
  }
  return bytes;
}
