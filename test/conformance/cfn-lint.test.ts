/**
 * A second opinion on the synthesized CloudFormation from a tool nobody here wrote: cfn-lint
 * (https://github.com/aws-cloudformation/cfn-lint, AWS's own linter, with the CloudFormation resource
 * specifications of every region). Every template the app synthesizes, in representative
 * configurations, and the committed member-role template, must have no error (E) finding; warnings
 * (W) are printed, not failed. A machine without cfn-lint fails with the install hint; never skips.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../../lib/config';
import { CredwatchStack } from '../../lib/credwatch-stack';
import {
  CredwatchMemberRoleStack,
  MEMBER_ROLE_STACK_NAME,
  MEMBER_ROLE_TEMPLATE_FILE,
} from '../../lib/member-role-stack';
import { findExecutable } from '../support/moto-server';

const CFN_LINT_VERSION = '1.51.0';
const CFN_LINT_INSTALL_HINT = `pip install cfn-lint==${CFN_LINT_VERSION}`;
const ROOT = path.join(__dirname, '../..');
/** The CDK context key that limits bundling to the stacks it names. */
const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';
/**
 * Linted against the resource specifications of every commercial region: the stacks are
 * environment-agnostic and deploy to any of them.
 */
const REGIONS = ['ALL_REGIONS'];
/** Every configuration gets alarm e-mails: the stack refuses a deployment no one hears about. */
const ALARM_EMAILS = ['ops@example.com'];

const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** One cfn-lint finding, as `-f json` prints it. */
interface Match {
  readonly Rule: { readonly Id: string; readonly ShortDescription?: string };
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Filename: string;
  readonly Location: {
    readonly Path?: readonly (string | number)[] | null;
    readonly Start?: { readonly LineNumber?: number };
  };
}

/** The scanner stack's configurations that change its template (roles, environment, outputs). */
const SCANNER_CONFIGURATIONS: Readonly<Record<string, unknown>> = {
  'self-account': { alarmEmails: ALARM_EMAILS },
  'account-list': {
    alarmEmails: ALARM_EMAILS,
    accounts: { source: 'list', ids: ['111111111111', '222222222222'] },
  },
  organization: {
    alarmEmails: ALARM_EMAILS,
    accounts: { source: 'organization', organizationId: 'o-abcdefghij' },
  },
};

let workdir: string;
/** Template files by name: `<configuration>.template.json`. */
const templates = new Map<string, string>();

function synthesize(): void {
  for (const [name, raw] of Object.entries(SCANNER_CONFIGURATIONS)) {
    // Bundled once (the template cdk synth deploys); the other configurations differ in role,
    // environment and outputs only.
    const bundling = name === 'self-account' ? {} : { [BUNDLING_STACKS]: [] };
    const app = new App({
      outdir: path.join(workdir, `cdk.out-${name}`),
      context: { ...cdkJson.context, ...bundling },
    });
    const stack = new CredwatchStack(app, 'Credwatch', { config: loadConfig(raw, `cfn-lint ${name}`) });
    const template = app.synth().getStackByName(stack.stackName).template;
    const file = path.join(workdir, `Credwatch-${name}.template.json`);
    writeFileSync(file, JSON.stringify(template, null, 1));
    templates.set(path.basename(file), file);
  }
  const app = new App({ outdir: path.join(workdir, 'cdk.out-member'), context: cdkJson.context });
  const member = new CredwatchMemberRoleStack(app, MEMBER_ROLE_STACK_NAME);
  const file = path.join(workdir, `${MEMBER_ROLE_STACK_NAME}.template.json`);
  writeFileSync(file, JSON.stringify(app.synth().getStackByName(member.stackName).template, null, 1));
  templates.set(path.basename(file), file);
  // The committed template the StackSet deploys, as committed.
  templates.set(MEMBER_ROLE_TEMPLATE_FILE, path.join(ROOT, MEMBER_ROLE_TEMPLATE_FILE));
}

/** A template with two known errors, linted in the same run: proof that findings are seen and read. */
const CONTROL = 'control-with-errors.template.json';
function writeControl(): string {
  const file = path.join(workdir, CONTROL);
  writeFileSync(
    file,
    JSON.stringify({
      Resources: {
        Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 'forever', Bogus: 1 } },
      },
    }),
  );
  return file;
}

/** Runs cfn-lint once on every file; its JSON findings. Exit codes 2/4/8 mean findings, not failure. */
function cfnLint(executable: string, files: readonly string[]): Promise<Match[]> {
  return new Promise((resolve, reject) => {
    execFile(
      executable,
      ['--format', 'json', '--regions', ...REGIONS, '--', ...files],
      { cwd: workdir, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      (err, stdout, stderr) => {
        // cfn-lint's exit code is a bit mask of the levels found (2 error, 4 warning, 8 info);
        // 1 is a crash, and anything unparsable is one too.
        const code = err && typeof err.code === 'number' ? err.code : err ? -1 : 0;
        if (code === 1 || code < 0) {
          return reject(new Error(`cfn-lint failed (exit ${code}): ${stderr || err?.message}`));
        }
        try {
          resolve(JSON.parse(stdout || '[]') as Match[]);
        } catch {
          reject(new Error(`cfn-lint printed no JSON (exit ${code}): ${stdout.slice(0, 2000)}${stderr}`));
        }
      },
    );
  });
}

const describe_ = (m: Match) => {
  const where = m.Location.Path?.length ? m.Location.Path.join('/') : `line ${m.Location.Start?.LineNumber}`;
  return `${m.Rule.Id} ${path.basename(m.Filename)} ${where}: ${m.Message}`;
};

/** cfn-lint on PATH. @throws Error with the install hint when it is not there */
function cfnLintExecutable(): string {
  const executable = findExecutable('cfn-lint');
  if (!executable) {
    throw new Error(`cfn-lint is not on PATH. The conformance tests need it: ${CFN_LINT_INSTALL_HINT}`);
  }
  return executable;
}

let matches: Match[];
let controlMatches: Match[];

beforeAll(async () => {
  const executable = cfnLintExecutable();
  workdir = mkdtempSync(path.join(tmpdir(), 'credwatch-cfn-lint-'));
  synthesize();
  const control = writeControl();
  const all = await cfnLint(executable, [...templates.values(), control]);
  controlMatches = all.filter((m) => path.resolve(workdir, m.Filename) === control);
  matches = all.filter((m) => !controlMatches.includes(m));
  const warnings = matches.filter((m) => m.Level !== 'Error');
  if (warnings.length > 0) {
    process.stdout.write(
      `cfn-lint warnings (not failed):\n${warnings.map((m) => `  ${describe_(m)}`).join('\n')}\n`,
    );
  }
}, 300_000);

afterAll(() => {
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

describe('cfn-lint', () => {
  it('is required: without it on PATH the suite fails with the install hint, it never skips', () => {
    const path_ = process.env.PATH;
    process.env.PATH = '';
    try {
      expect(() => cfnLintExecutable()).toThrow('pip install cfn-lint==1.51.0');
    } finally {
      process.env.PATH = path_;
    }
  });

  it('is the version these tests were written against', async () => {
    const version = await new Promise<string>((resolve, reject) =>
      execFile(cfnLintExecutable(), ['--version'], (err, stdout) =>
        err ? reject(err) : resolve(stdout.trim()),
      ),
    );
    expect(version).toBe(`cfn-lint ${CFN_LINT_VERSION}`);
  });

  it('reports the errors of a broken template with their rule ids and paths (the control)', () => {
    expect(
      controlMatches
        .filter((m) => m.Level === 'Error')
        .map(describe_)
        .sort(),
    ).toEqual([
      `E3002 ${CONTROL} Resources/Queue/Properties/Bogus: Additional properties are not allowed ('Bogus' was unexpected)`,
      `E3012 ${CONTROL} Resources/Queue/Properties/VisibilityTimeout: 'forever' is not of type 'integer'`,
    ]);
  });

  it('linted every synthesized template and the committed member-role template', () => {
    expect([...templates.keys()].sort()).toEqual(
      [
        ...Object.keys(SCANNER_CONFIGURATIONS).map((n) => `Credwatch-${n}.template.json`),
        `${MEMBER_ROLE_STACK_NAME}.template.json`,
        MEMBER_ROLE_TEMPLATE_FILE,
      ].sort(),
    );
  });

  it.each([
    ...Object.keys(SCANNER_CONFIGURATIONS).map((n) => `Credwatch-${n}.template.json`),
    `${MEMBER_ROLE_STACK_NAME}.template.json`,
    MEMBER_ROLE_TEMPLATE_FILE,
  ])('finds no error in %s', (name) => {
    const file = templates.get(name)!;
    const errors = matches.filter(
      (m) => m.Level === 'Error' && path.resolve(workdir, m.Filename) === path.resolve(file),
    );
    // Every error with its rule id and path, in one message.
    expect(errors.map(describe_)).toEqual([]);
  });
});
