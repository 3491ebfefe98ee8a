export function openApiDocument(version: string) {
  return { openapi: '3.1.0', info: { title: 'airq', version }, paths: {} };
}
