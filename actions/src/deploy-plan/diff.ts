import { createHmac, randomBytes } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { parseAllDocuments, stringify as toYaml } from 'yaml';

/** One rendered Kubernetes object, keyed by kind, namespace and name. */
export interface RenderedObject {
  key: string;
  kind: string;
  namespace: string;
  name: string;
  /** Normalised YAML (comments dropped, Secret data redacted). */
  text: string;
}

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface ObjectChange {
  change: ChangeKind;
  key: string;
  kind: string;
  namespace: string;
  name: string;
  /** A unified diff of the object's YAML. */
  patch: string;
}

export interface ManifestDiff {
  changes: ObjectChange[];
  unchanged: number;
}

// Keyed per process: base and head (rendered by the same run) compare equal when a value is unchanged, while the
// published fingerprint cannot be used to test guesses of the secret.
const FINGERPRINT_KEY = randomBytes(32);

function fingerprint(value: unknown): string {
  return createHmac('sha256', FINGERPRINT_KEY).update(String(value)).digest('hex').slice(0, 12);
}

/** Secret values never reach a PR comment: each becomes a fingerprint, so a change still shows as a change. */
function redactSecret(object: Record<string, unknown>): Record<string, unknown> {
  const redacted = { ...object };
  for (const field of ['data', 'stringData']) {
    const values = redacted[field];
    if (values && typeof values === 'object') {
      redacted[field] = Object.fromEntries(
        Object.entries(values).map(([key, value]) => [key, `(redacted, fingerprint ${fingerprint(value)})`]),
      );
    }
  }
  return redacted;
}

/**
 * Parses `helm template` output (multi-document YAML) into objects keyed by `kind/namespace/name`. Objects without a
 * namespace get `defaultNamespace` (the release namespace, as helm would install them); empty documents are skipped.
 */
export function parseManifests(
  text: string,
  defaultNamespace: string,
  source = 'rendered manifests',
): Map<string, RenderedObject> {
  const objects = new Map<string, RenderedObject>();
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`${source}: invalid YAML: ${document.errors[0]?.message}`);
    const value = document.toJS() as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const object = value as { kind?: string; metadata?: { name?: string; namespace?: string } } & Record<
      string,
      unknown
    >;
    const kind = object.kind ?? '(no kind)';
    const name = object.metadata?.name ?? '(no name)';
    const namespace = object.metadata?.namespace ?? defaultNamespace;
    const key = `${kind}/${namespace}/${name}`;
    const shown = kind === 'Secret' ? redactSecret(object) : object;
    objects.set(key, { key, kind, namespace, name, text: toYaml(shown, { lineWidth: 0 }) });
  }
  return objects;
}

/** What a line's value becomes when it changes from one render of the same chart and values to the next. */
export const VOLATILE = '(differs on every render)';

/**
 * Charts generate some values afresh on every render (`randAlphaNum` passwords, and checksum annotations of them)
 * because `lookup` sees no cluster under `helm template`. Given two renders of the same side, lines that differ
 * between them get their value replaced by VOLATILE, so the plan does not report those as changes on every PR.
 */
export function maskVolatile(
  first: Map<string, RenderedObject>,
  second: Map<string, RenderedObject>,
): Map<string, RenderedObject> {
  const masked = new Map<string, RenderedObject>();
  for (const [key, object] of first) {
    const again = second.get(key);
    if (!again || again.text === object.text) {
      masked.set(key, object);
      continue;
    }
    const other = again.text.split('\n');
    const lines = object.text
      .split('\n')
      .map((line, index) =>
        line === other[index] ? line : line.replace(/^(\s*(?:- )?[^:\s][^:]*:\s).*$/, `$1${VOLATILE}`),
      );
    masked.set(key, { ...object, text: lines.join('\n') });
  }
  return masked;
}

/** Compares two renders object by object; changes sorted by kind, namespace, name. */
export function diffManifests(base: Map<string, RenderedObject>, head: Map<string, RenderedObject>): ManifestDiff {
  const changes: ObjectChange[] = [];
  let unchanged = 0;
  const keys = [...new Set([...base.keys(), ...head.keys()])].sort();
  for (const key of keys) {
    const before = base.get(key);
    const after = head.get(key);
    const object = (after ?? before) as RenderedObject;
    if (before && after && before.text === after.text) {
      unchanged++;
      continue;
    }
    const change: ChangeKind = !before ? 'added' : !after ? 'removed' : 'changed';
    const patch = createTwoFilesPatch(
      `base/${key}`,
      `head/${key}`,
      before?.text ?? '',
      after?.text ?? '',
      undefined,
      undefined,
      { context: 3 },
    );
    changes.push({
      change,
      key,
      kind: object.kind,
      namespace: object.namespace,
      name: object.name,
      patch: stripPatchHeader(patch),
    });
  }
  return { changes, unchanged };
}

// createTwoFilesPatch starts with a separator line (and an "Index:" line in some versions); the ---/+++ lines already name the object.
function stripPatchHeader(patch: string): string {
  return patch.replace(/^(Index: .*\n)?=+\n/, '');
}

/** GitHub refuses issue comments longer than this. */
export const COMMENT_LIMIT = 65_536;

export interface PlanReport {
  marker: string;
  environment: string;
  production: boolean;
  explanation: string;
  chart: string;
  baseSha: string;
  headSha: string;
  diff: ManifestDiff;
  /** Something that stopped one side from rendering, shown instead of a diff. */
  notes?: string[];
}

const ICON: Record<ChangeKind, string> = { added: '➕ added', removed: '➖ removed', changed: '✏️ changed' };

function fence(patch: string): string {
  // A diff that itself holds ``` cannot close our fence early with a longer one.
  const longest = Math.max(2, ...[...patch.matchAll(/`+/g)].map((match) => match[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}diff\n${patch.trimEnd()}\n${ticks}`;
}

/**
 * The PR comment (also the job summary): target, production involvement, a table of changed objects and one
 * collapsible diff per object. Diffs that would push the body past `limit` are left out, and the comment says so.
 */
export function renderPlan(report: PlanReport, limit = COMMENT_LIMIT): string {
  const { diff } = report;
  const counts = ['added', 'removed', 'changed'].map(
    (kind) => `${diff.changes.filter((c) => c.change === kind).length} ${kind}`,
  );
  const head: string[] = [
    report.marker,
    `### Deploy plan: ${report.environment}`,
    '',
    report.explanation,
    '',
    report.production
      ? '**Production is involved.** Review this plan as a production change.'
      : 'Production is not involved.',
    '',
    `Rendered \`${report.chart}\` with ${report.environment}'s values at base \`${report.baseSha.slice(0, 7)}\` and head \`${report.headSha.slice(0, 7)}\`: ` +
      `${counts.join(', ')}, ${diff.unchanged} unchanged.`,
  ];
  for (const note of report.notes ?? []) head.push('', `> ${note}`);
  if (diff.changes.length === 0) {
    head.push('', 'No rendered object changes.');
    return head.join('\n');
  }
  head.push('', '| Change | Kind | Namespace | Name |', '| --- | --- | --- | --- |');
  for (const change of diff.changes)
    head.push(`| ${ICON[change.change]} | ${change.kind} | ${change.namespace} | ${change.name} |`);
  head.push('');

  const omittedNote = (n: number) =>
    `\n_${n} diff${n === 1 ? '' : 's'} left out to stay within GitHub's ${limit}-character comment limit; run \`helm template\` locally or see the job summary._`;
  let body = head.join('\n');
  // Reserve room for the omission note so adding it can never break the limit.
  const reserve = omittedNote(diff.changes.length).length + 1;
  let omitted = 0;
  const section = (change: ObjectChange, patch: string) =>
    `\n<details><summary>${change.change}: ${change.kind} ${change.namespace}/${change.name}</summary>\n\n${fence(patch)}\n\n</details>\n`;
  for (const change of diff.changes) {
    const whole = section(change, change.patch);
    const room = limit - reserve - body.length;
    if (whole.length <= room) {
      body += whole;
      continue;
    }
    // Too long for what is left: keep the first lines of this diff if a useful part fits, else leave it out.
    const overhead = section(change, '').length + 80;
    if (room - overhead >= 1000) {
      const lines = change.patch.split('\n');
      const kept: string[] = [];
      let size = 0;
      for (const line of lines) {
        if (size + line.length + 1 > room - overhead) break;
        kept.push(line);
        size += line.length + 1;
      }
      body += section(change, `${kept.join('\n')}\n… ${lines.length - kept.length} more lines of this diff left out`);
    } else {
      omitted++;
    }
  }
  if (omitted > 0) body += omittedNote(omitted);
  return body;
}
