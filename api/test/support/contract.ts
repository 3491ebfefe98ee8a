import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'chai';

type Json = Record<string, unknown>;
interface ResponseObject {
  $ref?: string;
  content?: Record<string, { schema?: unknown; 'x-item-schema'?: { $ref: string } }>;
}
export interface Document {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components: { responses?: Record<string, ResponseObject>; schemas: Record<string, Json> };
}

const BASE = 'https://contract.test/openapi.json';
const escape = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * Holds real responses to the OpenAPI document the API serves: the status must be one the operation declares, the
 * media type one that response declares, and a JSON body (a problem, a page, each line of NDJSON) must validate
 * against its schema. Records which documented responses were seen, so a suite can show it exercised them all.
 */
export class ContractChecker {
  readonly seen = new Set<string>();
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: { path: string; pattern: RegExp }[];

  readonly doc: Document;

  constructor(doc: Document) {
    this.doc = doc;
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats.default(this.ajv);
    this.ajv.addSchema({ ...(doc as unknown as Json), $id: BASE });
    this.templates = Object.keys(doc.paths).map((path) => ({
      path,
      pattern: new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`),
    }));
  }

  /** Every response the document declares, by the pointer of the object that describes it (shared ones once). */
  documented(): Set<string> {
    const all = new Set<string>();
    for (const [path, operations] of Object.entries(this.doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const status of Object.keys(operation.responses)) all.add(this.resolve(path, method, status).pointer);
      }
    }
    return all;
  }

  private resolve(path: string, method: string, status: string): { pointer: string; response: ResponseObject } {
    let pointer = `/paths/${escape(path)}/${method}/responses/${status}`;
    let response = this.doc.paths[path]![method]!.responses[status]!;
    if (response.$ref) {
      pointer = response.$ref.slice(1);
      response = this.doc.components.responses![response.$ref.split('/').pop()!]!;
    }
    return { pointer, response };
  }

  private validator(ref: string): ValidateFunction {
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${BASE}#${ref}` });
      this.compiled.set(ref, validate);
    }
    return validate;
  }

  private expectValid(ref: string, body: unknown, where: string): void {
    const validate = this.validator(ref);
    expect(
      validate(body),
      `${where}: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
    ).to.equal(true);
  }

  /** Checks one response (its body already read as text) to `method url`. */
  check(
    method: string,
    url: string,
    response: { status: number; contentType: string | null | undefined },
    text: string,
  ): void {
    // OPTIONS is answered outside the operations: a CORS preflight, or the router's list of allowed methods.
    if (method === 'OPTIONS') return;
    const path = url.split('?')[0]!;
    const where = `${method} ${url.slice(0, 200)} → ${response.status}`;
    const type = (response.contentType ?? '').split(';')[0]!.trim();
    const template = this.templates.find((t) => t.pattern.test(path));
    const operation =
      template && this.doc.paths[template.path]![method.toLowerCase() === 'head' ? 'get' : method.toLowerCase()];
    if (!template || !operation) {
      // No such route (404) or method (405): the problem the middleware renders for any path.
      expect([404, 405], where).to.include(response.status);
      expect(type, where).to.equal('application/problem+json');
      if (method !== 'HEAD') this.expectValid('/components/schemas/Problem', JSON.parse(text), where);
      this.seen.add(`/components/responses/Error${response.status}`);
      return;
    }
    const status = String(response.status);
    expect(Object.keys(operation.responses), `${where}: status not documented`).to.include(status);
    const { pointer, response: documented } = this.resolve(
      template.path,
      method.toLowerCase() === 'head' ? 'get' : method.toLowerCase(),
      status,
    );
    this.seen.add(pointer);
    if (!documented.content) {
      expect(text, `${where}: documented without a body`).to.equal('');
      return;
    }
    expect(Object.keys(documented.content), `${where}: media type not documented`).to.include(type);
    if (method === 'HEAD') return;
    const media = documented.content[type]!;
    const schemaRef = `${pointer}/content/${escape(type)}/schema`;
    if (type === 'application/json' || type === 'application/problem+json') {
      this.expectValid(schemaRef, JSON.parse(text), where);
    } else if (media['x-item-schema']) {
      const lines = text.split('\n').filter((line) => line !== '');
      expect(lines.length, `${where}: no lines`).to.be.greaterThan(0);
      for (const line of lines) this.expectValid(media['x-item-schema'].$ref.slice(1), JSON.parse(line), where);
    } else {
      this.expectValid(schemaRef, text, where);
    }
  }
}
