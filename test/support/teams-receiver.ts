/**
 * A Microsoft Teams Workflows webhook on 127.0.0.1 ("When a Teams webhook request is received",
 * the trigger of a Power Automate flow that posts the card to a channel), recording what the
 * channel would show.
 *
 * It answers like the trigger: `202 Accepted` with an empty body for a request it takes; a request
 * without `sig` `401 DirectApiAuthorizationRequired`, one whose `sig` is wrong `401`
 * (`DirectApiInvalidAuthorizationSignature`, as third-party tests quote it); an
 * unknown workflow path `404` (`WorkflowNotFound`). The real trigger accepts any JSON and the flow's
 * "Post card" action fails later, unseen by the sender; this stand-in refuses at once with `400`
 * what that action (and Teams) would not post, so a test sees it: a body that is not JSON, not a
 * `message` with exactly one `application/vnd.microsoft.card.adaptive` attachment, a card the
 * Adaptive Cards library (adaptivecards 3, Microsoft's renderer) reports errors for, a version
 * above 1.5, or a body over 28 KB (learn.microsoft.com: Teams messages, cards included, at most
 * about 28 KB). Scripted answers (429 with Retry-After, 5xx, a dropped connection) come first.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { type LocalServer, readBody, serveLocally } from './local-server';

/**
 * Microsoft's Adaptive Cards library, from its UMD bundle: the package's `lib/` entry is ES modules
 * with extensionless imports Node cannot resolve, and the bundle's own typings are not a module.
 */
const { AdaptiveCard, SerializationContext } = createRequire(__filename)(
  'adaptivecards/dist/adaptivecards.js',
) as {
  AdaptiveCard: new () => { parse(json: unknown, context: unknown): void };
  SerializationContext: new () => { readonly eventCount: number; getEventAt(i: number): { message: string } };
};

/** Teams' message size limit, in bytes of the request body. */
export const TEAMS_MESSAGE_BYTES = 28 * 1024;

export type TeamsAnswer =
  | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: string }
  | 'destroy';

export interface TeamsRequest {
  readonly payload: unknown;
  readonly answeredWith: number | 'destroyed';
  readonly refusedFor?: readonly string[];
  readonly bytes: number;
}

export interface TeamsReceiver extends LocalServer {
  /** The workflow URL, `sig` included. */
  readonly workflowUrl: string;
  /** The signature: must never appear in output. */
  readonly sig: string;
  readonly requests: readonly TeamsRequest[];
  /** The cards the channel shows (answered 202), in order. */
  cards(): Record<string, unknown>[];
  script(...answers: TeamsAnswer[]): void;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
};

/** What the flow's "Post card" action (and Teams) would refuse in a body; `[]` when it posts. */
export function cardProblems(payload: unknown, bytes: number): string[] {
  if (bytes > TEAMS_MESSAGE_BYTES) return [`the body is ${bytes} bytes, over Teams' ${TEAMS_MESSAGE_BYTES}`];
  const p = payload as { type?: unknown; attachments?: unknown } | null;
  if (p === null || typeof p !== 'object') return ['the body is not a JSON object'];
  if (p.type !== 'message') return ['/type: not "message"'];
  if (!Array.isArray(p.attachments) || p.attachments.length !== 1) return ['/attachments: not exactly one'];
  const a = p.attachments[0] as { contentType?: unknown; content?: unknown };
  if (a?.contentType !== 'application/vnd.microsoft.card.adaptive')
    return ['/attachments/0/contentType: not an Adaptive Card'];
  const content = a.content as { type?: unknown; version?: unknown; body?: unknown } | null;
  if (content === null || typeof content !== 'object' || content.type !== 'AdaptiveCard')
    return ['/attachments/0/content: not an AdaptiveCard'];
  const version = typeof content.version === 'string' ? content.version : '';
  const [major, minor] = version.split('.').map(Number);
  if (!/^\d+\.\d+$/.test(version) || major !== 1 || (minor ?? 99) > 5)
    return [`/attachments/0/content/version: ${JSON.stringify(content.version)}, not 1.0 to 1.5`];
  if (!Array.isArray(content.body) || content.body.length === 0)
    return ['/attachments/0/content/body: empty'];
  const problems: string[] = [];
  const ctx = new SerializationContext();
  new AdaptiveCard().parse(content, ctx);
  for (let i = 0; i < ctx.eventCount; i++) problems.push(`adaptivecards: ${ctx.getEventAt(i).message}`);
  content.body.forEach((element: unknown, i: number) => {
    const e = element as { type?: unknown; text?: unknown };
    if (e?.type === 'TextBlock' && (typeof e.text !== 'string' || e.text === ''))
      problems.push(`/attachments/0/content/body/${i}: a TextBlock without text`);
  });
  return problems;
}

/** Starts a workflow trigger on a free port. */
export async function startTeamsReceiver(): Promise<TeamsReceiver> {
  const sig = 'fakeSIGNATUREofTheWorkflow0123456789abcdef';
  const path = '/workflows/0a1b2c3d4e5f/triggers/manual/paths/invoke';
  const queue: TeamsAnswer[] = [];
  const requests: TeamsRequest[] = [];
  const shown: Record<string, unknown>[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const text = await readBody(req);
    const bytes = Buffer.byteLength(text, 'utf8');
    const url = new URL(req.url ?? '/', 'http://localhost');
    let payload: unknown = text;
    try {
      payload = JSON.parse(text);
    } catch {
      // kept as text
    }
    const record = (answeredWith: number | 'destroyed', refusedFor?: string[]) =>
      requests.push({ payload, answeredWith, bytes, ...(refusedFor ? { refusedFor } : {}) });
    if (req.method !== 'POST' || url.pathname !== path) {
      record(404);
      return json(res, 404, {
        error: { code: 'WorkflowNotFound', message: 'The workflow could not be found.' },
      });
    }
    if (!url.searchParams.has('sig')) {
      // What Logic Apps answers a trigger URL without its signature (MicrosoftDocs/azure-docs#60706).
      record(401);
      return json(res, 401, {
        error: {
          code: 'DirectApiAuthorizationRequired',
          message: 'The request must be authenticated only by Shared Access scheme.',
        },
      });
    }
    if (url.searchParams.get('sig') !== sig) {
      // A wrong signature: the code as third-party tests quote it (not confirmed by Microsoft's docs).
      record(401);
      return json(res, 401, {
        error: {
          code: 'DirectApiInvalidAuthorizationSignature',
          message:
            "The provided authorization token is not valid. The request should have a valid 'sig' query parameter.",
        },
      });
    }
    const scripted = queue.shift();
    if (scripted === 'destroy') {
      record('destroyed');
      req.socket.destroy();
      return;
    }
    if (scripted) {
      record(scripted.status);
      res.writeHead(scripted.status, scripted.headers ?? {});
      res.end(scripted.body ?? '');
      return;
    }
    if (typeof payload === 'string') {
      record(400, ['the body is not JSON']);
      return json(res, 400, {
        error: { code: 'InvalidRequestContent', message: 'The request content is not valid JSON.' },
      });
    }
    const problems = cardProblems(payload, bytes);
    if (problems.length > 0) {
      record(400, problems);
      return json(res, 400, { error: { code: 'InvalidTemplate', message: 'The card could not be posted.' } });
    }
    record(202);
    shown.push((payload as { attachments: { content: Record<string, unknown> }[] }).attachments[0]!.content);
    res.writeHead(202);
    res.end();
  };

  const server = await serveLocally(handle);
  return {
    ...server,
    workflowUrl: `${server.url}${path}?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${sig}`,
    sig,
    requests,
    cards: () => [...shown],
    script: (...answers) => {
      queue.push(...answers);
    },
  };
}
