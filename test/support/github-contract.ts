/**
 * GitHub's published contract, as npm carries it: the REST API description (`@octokit/openapi`, OpenAPI 3.0) and the
 * webhook payload schemas (`@octokit/openapi-webhooks`, OpenAPI 3.1). The GitHub API stand-in checks every request it
 * receives and every answer it gives against the first; the action and workflow tests check every event payload they
 * feed against the second. Each document is parsed and handed to Ajv once per process, and each validator is
 * compiled on first use and kept, so the suites pay for the big documents once.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// ajv-formats is CommonJS with `exports.default`; under NodeNext its default import is the module object's type.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const require = createRequire(import.meta.url);

type Json = Record<string, unknown>;
type Method = 'get' | 'put' | 'post' | 'patch' | 'delete' | 'head' | 'options';

const REST_ID = 'github-rest';
const WEBHOOKS_ID = 'github-webhooks';

/** Which documents, at which versions: printed in every violation so a reader knows what was checked. */
export function contractVersions(): { rest: string; webhooks: string } {
  const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version;
  return {
    rest: `@octokit/openapi@${version('@octokit/openapi')}`,
    webhooks: `@octokit/openapi-webhooks@${version('@octokit/openapi-webhooks')}`,
  };
}

function loadDocument(file: string): Json {
  return JSON.parse(readFileSync(require.resolve(file), 'utf8')) as Json;
}

/** RFC 6901 escaping of one JSON pointer segment. */
function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function resolvePointer(document: Json, pointer: string): unknown {
  let node: unknown = document;
  for (const raw of pointer.replace(/^#\/?/, '').split('/')) {
    if (raw === '') continue;
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = (node as Json | undefined)?.[key];
  }
  return node;
}

/**
 * Reads GitHub's OpenAPI 3.0 `nullable: true` as GitHub means it ("this, or null"), which Ajv's `nullable` does only
 * in part. Rewrites, in place: a nullable schema without `type` (beside allOf/anyOf/oneOf), which Ajv refuses, into
 * `anyOf: [{ type: 'null' }, <the schema>]`; and a nullable `enum` that leaves null out (71 in the REST description,
 * e.g. a check run's `conclusion`) gains null, as the same fields carry in GitHub's OpenAPI 3.1 webhook schemas.
 */
function readNullableAsGitHubMeansIt(node: unknown): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) readNullableAsGitHubMeansIt(item);
    return;
  }
  const object = node as Json;
  for (const value of Object.values(object)) readNullableAsGitHubMeansIt(value);
  if (object.nullable === true && Array.isArray(object.enum) && !object.enum.includes(null)) object.enum.push(null);
  if (object.nullable === true && object.type === undefined) {
    delete object.nullable;
    const inner = { ...object };
    for (const key of Object.keys(object)) delete object[key];
    object.anyOf = [{ type: 'null' }, inner];
  }
}

/** Where `target` sits in `document` (by identity), as a JSON pointer; found by a walk, so only on the error path. */
function pointerOf(document: unknown, target: unknown): string | undefined {
  const stack: Array<[unknown, string]> = [[document, '#']];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const [node, pointer] = stack.pop()!;
    if (node === target) return pointer;
    if (node === null || typeof node !== 'object' || seen.has(node)) continue;
    seen.add(node);
    for (const [key, value] of Object.entries(node))
      if (value !== null && typeof value === 'object') stack.push([value, `${pointer}/${escapePointer(key)}`]);
  }
  return undefined;
}

/**
 * One line per Ajv error: where in the data, what is wrong, and the failing keyword's place in the document (or
 * `outside`, for a keyword of a schema assembled here rather than taken from the document).
 */
function describeErrors(
  errors: ErrorObject[] | null | undefined,
  document: Json,
  label: string,
  outside?: string,
): string[] {
  const lines = (errors ?? []).slice(0, 8).map((error) => {
    const place = pointerOf(document, error.parentSchema);
    const schemaPath = place ? `${place}/${escapePointer(error.keyword)}` : (outside ?? error.schemaPath);
    const detail =
      error.keyword === 'enum' ? ` ${JSON.stringify((error.params as { allowedValues?: unknown }).allowedValues)}` : '';
    const value =
      error.keyword === 'additionalProperties'
        ? ` "${(error.params as { additionalProperty?: string }).additionalProperty}"`
        : '';
    return `${label} ${error.instancePath || '/'} ${error.message ?? error.keyword}${detail}${value} (schema ${schemaPath})`;
  });
  if ((errors?.length ?? 0) > 8) lines.push(`${label}: ${errors!.length - 8} more errors`);
  return lines;
}

function newAjv<T extends Ajv>(
  make: (options: ConstructorParameters<typeof Ajv>[0]) => T,
  coerceTypes: boolean | 'array' = false,
): T {
  // strict: false because the documents carry OpenAPI keywords (example, readOnly, x-github...) beside JSON Schema;
  // validateSchema: false because a whole OpenAPI document is not itself a JSON Schema; verbose for error locations.
  const ajv = make({
    strict: false,
    allErrors: true,
    validateSchema: false,
    verbose: true,
    discriminator: false,
    coerceTypes,
  });
  addFormats(ajv);
  return ajv;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  /** The parameter's schema's place in the document. */
  schemaPointer: string;
  multiSegment: boolean;
}

/** One operation of the REST description: `repos/create-deployment` is `POST /repos/{owner}/{repo}/deployments`. */
export interface Operation {
  id: string;
  method: string;
  template: string;
  /** The operation object's place in the document, e.g. `#/paths/~1repos~1{owner}~1{repo}~1deployments/post`. */
  pointer: string;
  documentation: string;
  parameters: Parameter[];
  pattern: RegExp;
  pathNames: string[];
  /** Literal characters of the template: among several matching templates the most specific one wins. */
  literal: number;
}

export interface RequestToCheck {
  method: string;
  /** The path as sent, still percent-encoded, without the query string. */
  rawPath: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** The body text ('' when none). */
  bodyText: string;
}

export interface RequestVerdict {
  operation?: Operation;
  /** Path parameters, decoded. */
  params: Record<string, string>;
  problems: string[];
}

const GENERIC_ERROR = '#/components/schemas/basic-error';

/** GitHub's REST API description with compiled, cached validators for requests and answers. */
export class RestContract {
  readonly document: Json;
  private readonly ajv: Ajv;
  private coercing: Ajv | undefined;
  private readonly operations = new Map<string, Operation[]>();
  private readonly byId = new Map<string, Operation>();
  private readonly validators = new Map<string, ValidateFunction>();

  constructor() {
    this.document = loadDocument('@octokit/openapi/generated/api.github.com.json');
    readNullableAsGitHubMeansIt(this.document.components);
    readNullableAsGitHubMeansIt(this.document.paths);
    this.ajv = newAjv((options) => new Ajv(options));
    this.ajv.addSchema(this.document, REST_ID);
    for (const [template, item] of Object.entries(this.document.paths as Record<string, Record<string, Json>>)) {
      for (const [method, definition] of Object.entries(item)) {
        if (!['get', 'put', 'post', 'patch', 'delete', 'head', 'options'].includes(method)) continue;
        const operation = this.describeOperation(template, method as Method, definition);
        this.byId.set(operation.id, operation);
        const list = this.operations.get(operation.method) ?? [];
        list.push(operation);
        this.operations.set(operation.method, list);
      }
    }
  }

  operation(id: string): Operation {
    const operation = this.byId.get(id);
    if (!operation) throw new Error(`the GitHub REST description has no operation ${id}`);
    return operation;
  }

  /** The operation GitHub routes `method rawPath` to, with its decoded path parameters. */
  match(method: string, rawPath: string): { operation: Operation; params: Record<string, string> } | undefined {
    let best: { operation: Operation; params: Record<string, string> } | undefined;
    for (const operation of this.operations.get(method.toUpperCase()) ?? []) {
      const found = operation.pattern.exec(rawPath);
      if (!found || (best && best.operation.literal >= operation.literal)) continue;
      const params: Record<string, string> = {};
      operation.pathNames.forEach((name, index) => (params[name] = safeDecode(found[index + 1] ?? '')));
      best = { operation, params };
    }
    return best;
  }

  /** Checks a request as GitHub would receive it; `problems` is empty when it keeps to the contract. */
  checkRequest(request: RequestToCheck): RequestVerdict {
    const matched = this.match(request.method, request.rawPath);
    if (!matched) {
      return {
        params: {},
        problems: [
          `${request.method} ${request.rawPath}: no operation of the GitHub REST API has this method and path`,
        ],
      };
    }
    const { operation, params } = matched;
    const problems: string[] = [];
    const definition = resolvePointer(this.document, operation.pointer) as Json;
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };

    for (const location of ['path', 'query'] as const) {
      const values: Record<string, string | string[]> = {};
      if (location === 'path') Object.assign(values, params);
      else
        for (const key of new Set(request.query.keys())) {
          const all = request.query.getAll(key);
          values[key] = all.length === 1 ? all[0]! : all;
        }
      const validate = this.parameterValidator(operation, location);
      if (!validate(values))
        problems.push(
          ...describeErrors(
            validate.errors,
            this.document,
            `${location} parameters`,
            `${operation.pointer}/parameters`,
          ),
        );
    }

    // GitHub refuses requests without a User-Agent (403), and writes without credentials (401).
    if (!header('user-agent')) problems.push('header User-Agent is missing: GitHub refuses requests without one');
    if (!['GET', 'HEAD'].includes(operation.method) && !/^(token|bearer) \S+/i.test(header('authorization') ?? '')) {
      problems.push(
        'header Authorization is missing or not "token <token>"/"Bearer <token>": GitHub answers 401 to an unauthenticated write',
      );
    }
    const accepted = this.acceptableMediaTypes(definition);
    const accept = header('accept');
    if (!accept) problems.push(`header Accept is missing; send application/vnd.github+json`);
    else if (!accept.split(',').some((entry) => accepted(entry.split(';')[0]!.trim().toLowerCase()))) {
      problems.push(
        `header Accept "${accept}" names no media type this operation answers with (schema ${operation.pointer}/responses)`,
      );
    }

    const body = definition.requestBody as { required?: boolean; content?: Record<string, unknown> } | undefined;
    if (!body) {
      if (request.bodyText !== '')
        problems.push(`the operation takes no request body, yet one was sent (schema ${operation.pointer})`);
    } else if (request.bodyText === '') {
      if (body.required) problems.push(`request body is missing (schema ${operation.pointer}/requestBody/required)`);
    } else {
      const type = (header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const media = Object.keys(body.content ?? {});
      if (!media.includes(type)) {
        problems.push(
          `header Content-Type "${header('content-type') ?? ''}" is not one of ${media.join(', ')} (schema ${operation.pointer}/requestBody/content)`,
        );
      } else if (type.endsWith('json')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(request.bodyText);
        } catch (error) {
          problems.push(`request body is not JSON: ${(error as Error).message}`);
        }
        if (parsed !== undefined) {
          const validate = this.validator(`${operation.pointer}/requestBody/content/${escapePointer(type)}/schema`);
          if (!validate(parsed)) problems.push(...describeErrors(validate.errors, this.document, 'request body'));
        }
      }
    }
    return { operation, params, problems: problems.map((problem) => `${describe(operation)}: ${problem}`) };
  }

  /**
   * Checks an answer against the operation's documented response for its status. A status the operation does not
   * document is accepted only as one of the errors GitHub may give any request (4xx/5xx with its basic-error body).
   */
  checkResponse(
    operation: Operation,
    status: number,
    headers: Record<string, string | undefined>,
    bodyText: string,
  ): string[] {
    const definition = resolvePointer(this.document, operation.pointer) as { responses: Record<string, unknown> };
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find(
      (candidate) => candidate in definition.responses,
    );
    let responsePointer: string;
    if (key) {
      responsePointer = `${operation.pointer}/responses/${key}`;
      const reference = (definition.responses[key] as { $ref?: string }).$ref;
      if (reference) responsePointer = reference;
    } else if (status >= 400) {
      responsePointer = '';
    } else {
      return [
        `${describe(operation)}: answered ${status}, which the operation does not document (schema ${operation.pointer}/responses)`,
      ];
    }
    const content =
      responsePointer === ''
        ? { 'application/json': { schema: { $ref: GENERIC_ERROR } } }
        : ((resolvePointer(this.document, responsePointer) as Json).content as Record<string, Json> | undefined);
    if (status === 204 || status === 304) {
      return bodyText === '' ? [] : [`${describe(operation)}: a ${status} answer carries no body, yet one was sent`];
    }
    if (!content) return [];
    const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!(type in content)) {
      return [
        `${describe(operation)}: answered ${status} as "${headers['content-type'] ?? ''}", not one of ${Object.keys(content).join(', ')} (schema ${responsePointer}/content)`,
      ];
    }
    if (!type.endsWith('json')) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(bodyText);
    } catch (error) {
      return [`${describe(operation)}: the ${status} answer is not JSON: ${(error as Error).message}`];
    }
    const validate = this.validator(
      responsePointer === '' ? GENERIC_ERROR : `${responsePointer}/content/${escapePointer(type)}/schema`,
    );
    if (validate(parsed)) return [];
    return describeErrors(validate.errors, this.document, `answer ${status}`).map(
      (problem) => `${describe(operation)}: ${problem}`,
    );
  }

  private validator(pointer: string): ValidateFunction {
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${REST_ID}${pointer}` });
      this.validators.set(pointer, validate);
    }
    return validate;
  }

  /** Path and query values arrive as text; this validator converts them by their schemas' types, as GitHub does. */
  private parameterValidator(operation: Operation, location: 'path' | 'query'): ValidateFunction {
    const key = `${operation.pointer} ${location}`;
    let validate = this.validators.get(key);
    if (!validate) {
      if (!this.coercing) {
        this.coercing = newAjv((options) => new Ajv(options), 'array');
        this.coercing.addSchema(this.document, REST_ID);
      }
      const parameters = operation.parameters.filter((parameter) => parameter.in === location);
      validate = this.coercing.compile({
        type: 'object',
        properties: Object.fromEntries(
          parameters.map((parameter) => [parameter.name, { $ref: `${REST_ID}${parameter.schemaPointer}` }]),
        ),
        required: parameters.filter((parameter) => parameter.required).map((parameter) => parameter.name),
        // GitHub ignores a query parameter it does not know: a misspelt one would silently change nothing.
        additionalProperties: location === 'path',
      });
      this.validators.set(key, validate);
    }
    return validate;
  }

  private acceptableMediaTypes(definition: Json): (type: string) => boolean {
    const documented = new Set<string>();
    for (const response of Object.values(definition.responses as Record<string, Json>)) {
      const resolved = response.$ref ? (resolvePointer(this.document, response.$ref as string) as Json) : response;
      for (const type of Object.keys((resolved.content as Json | undefined) ?? {})) documented.add(type);
    }
    return (type) =>
      type === '*/*' ||
      type === 'application/*' ||
      documented.has(type) ||
      (documented.has('application/json') && /^application\/vnd\.github(\.[a-z0-9-]+)*(\+json)?$/.test(type));
  }

  private describeOperation(template: string, method: Method, definition: Json): Operation {
    const pointer = `#/paths/${escapePointer(template)}/${method}`;
    const parameters = ((definition.parameters as Json[] | undefined) ?? []).map((raw, index) => {
      const reference = raw.$ref as string | undefined;
      const parameter = (reference ? resolvePointer(this.document, reference) : raw) as Json;
      return {
        name: parameter.name as string,
        in: parameter.in as Parameter['in'],
        required: parameter.required === true,
        schemaPointer: `${reference ?? `${pointer}/parameters/${index}`}/schema`,
        multiSegment: parameter['x-multi-segment'] === true,
      };
    });
    const pathNames: string[] = [];
    let literal = 0;
    const source = template.replace(/\{([^}]+)\}|[^{]+/g, (token, name: string | undefined) => {
      if (name === undefined) {
        literal += token.length;
        return token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      }
      pathNames.push(name);
      return parameters.find((parameter) => parameter.name === name && parameter.in === 'path')?.multiSegment
        ? '(.+?)'
        : '([^/]+?)';
    });
    const docs = (definition.externalDocs as { url?: string } | undefined)?.url ?? '';
    return {
      id: definition.operationId as string,
      method: method.toUpperCase(),
      template,
      pointer,
      documentation: docs,
      parameters,
      pattern: new RegExp(`^${source}$`),
      pathNames,
      literal,
    };
  }
}

function describe(operation: Operation): string {
  return `${operation.id} (${operation.method} ${operation.template})`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The webhook payload schemas, keyed as the document keys them (`push`, `pull-request-opened`...). */
export class WebhookContract {
  readonly document: Json;
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor() {
    this.document = loadDocument('@octokit/openapi-webhooks/generated/api.github.com.json');
    this.ajv = newAjv((options) => new Ajv2020(options));
    this.ajv.addSchema(this.document, WEBHOOKS_ID);
  }

  /** The webhook a workflow event's payload is: `pull_request` with action `opened` is `pull-request-opened`. */
  webhookName(eventName: string, payload: Record<string, unknown>): string {
    const base = eventName.replace(/_/g, '-');
    const webhooks = this.document.webhooks as Json;
    const action = typeof payload.action === 'string' ? `${base}-${payload.action.replace(/_/g, '-')}` : undefined;
    if (action && action in webhooks) return action;
    if (base in webhooks) return base;
    throw new Error(
      `the GitHub webhook schemas know no event "${eventName}"${action ? ` with action "${String(payload.action)}"` : ''}; see ${contractVersions().webhooks}`,
    );
  }

  /** Problems of `payload` as the payload of `eventName` (empty when it validates). */
  check(eventName: string, payload: Record<string, unknown>): string[] {
    const name = this.webhookName(eventName, payload);
    const pointer = `#/webhooks/${escapePointer(name)}/post/requestBody/content/application~1json/schema`;
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${WEBHOOKS_ID}${pointer}` });
      this.validators.set(pointer, validate);
    }
    if (validate(payload)) return [];
    return describeErrors(validate.errors, this.document, `${eventName} payload (webhook ${name})`);
  }
}

let rest: RestContract | undefined;
let webhooks: WebhookContract | undefined;

/** The process's one REST contract (parsed and registered on first use). */
export function restContract(): RestContract {
  return (rest ??= new RestContract());
}

/** The process's one webhook contract (parsed and registered on first use). */
export function webhookContract(): WebhookContract {
  return (webhooks ??= new WebhookContract());
}

/** Throws, naming the webhook and each failing schema place, unless `payload` is a valid `eventName` payload. */
export function assertEventPayload(eventName: string, payload: Record<string, unknown>): void {
  const problems = webhookContract().check(eventName, payload);
  if (problems.length > 0) {
    throw new Error(
      `the ${eventName} event payload breaks GitHub's webhook contract (${contractVersions().webhooks}):\n  ${problems.join('\n  ')}`,
    );
  }
}
