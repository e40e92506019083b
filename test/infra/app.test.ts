/**
 * The real CDK app (bin/app.ts), run by the CDK CLI in a child process exactly as `npx cdk synth`
 * runs it: with the default configuration it refuses to synthesize alarms that notify no one; with
 * an alarm e-mail in the context it synthesizes templates that name no region (although the CLI
 * sets CDK_DEFAULT_REGION), so the stack deploys to the region of the credentials.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CONFIG_FILE_NAME } from '../../lib/config';
import { NOTIFY_NO_ONE } from '../../lib/credwatch-stack';

const ROOT = path.join(__dirname, '../..');
const CDK = path.join(ROOT, 'node_modules/aws-cdk/bin/cdk');
const REGION_NAME =
  /\b(?:us|eu|ap|sa|ca|me|af|il|mx)-(?:east|west|north|south|central|northeast|southeast|northwest|southwest)-\d\b/g;

interface Synth {
  readonly code: number;
  readonly stderr: string;
  readonly outdir: string;
}

/**
 * `cdk synth --quiet` of the repository's app into a temporary directory, with no AWS credentials or
 * configuration (the CLI then takes us-east-1 as its default region and knows no account).
 */
function cdkSynth(args: readonly string[], env: Record<string, string> = {}): Promise<Synth> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'credwatch-app-'));
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('CDK_')),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CDK, 'synth', '--quiet', '--no-notices', '-o', outdir, ...args],
      {
        cwd: ROOT,
        env: {
          ...clean,
          AWS_CONFIG_FILE: path.join(outdir, 'no-aws-config'),
          AWS_SHARED_CREDENTIALS_FILE: path.join(outdir, 'no-aws-credentials'),
          AWS_EC2_METADATA_DISABLED: 'true',
          CDK_DISABLE_VERSION_CHECK: '1',
          ...env,
        },
        timeout: 240_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, _stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stderr, outdir });
      },
    );
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// A developer's own credwatch.config.json would change what "the default configuration" is.
const withoutConfigFile = existsSync(path.join(ROOT, CONFIG_FILE_NAME)) ? it.skip : it;

describe('npx cdk synth (bin/app.ts)', () => {
  withoutConfigFile(
    'fails with the default configuration: its alarms would notify no one',
    async () => {
      const synth = await cdkSynth([]);
      dirs.push(synth.outdir);
      expect(synth.code).not.toBe(0);
      expect(synth.stderr).toContain(
        `credwatch: invalid configuration: credwatch.config.json: alarmEmails: ${NOTIFY_NO_ONE}\n`,
      );
      expect(existsSync(path.join(synth.outdir, 'Credwatch.template.json'))).toBe(false);
    },
    240_000,
  );

  it('names the context as the source of an empty alarmEmails', async () => {
    const synth = await cdkSynth(['-c', 'credwatch={"alarmEmails":[]}']);
    dirs.push(synth.outdir);
    expect(synth.code).not.toBe(0);
    expect(synth.stderr).toContain(
      `credwatch: invalid configuration: context "credwatch": alarmEmails: ${NOTIFY_NO_ONE}\n`,
    );
  }, 240_000);

  it('synthesizes with an alarm e-mail, and the templates name no region though CDK_DEFAULT_REGION is set', async () => {
    const synth = await cdkSynth(['-c', 'credwatch={"alarmEmails":["secops@example.com"]}'], {
      CDK_DEFAULT_REGION: 'eu-west-1',
      CDK_DEFAULT_ACCOUNT: '111111111111',
    });
    dirs.push(synth.outdir);
    expect(synth.stderr).not.toContain('invalid configuration');
    expect(synth.code).toBe(0);
    for (const name of ['Credwatch', 'CredwatchMemberRole']) {
      const text = readFileSync(path.join(synth.outdir, `${name}.template.json`), 'utf8');
      expect(text.match(REGION_NAME) ?? []).toEqual([]);
      expect(text).not.toContain('111111111111');
    }
    const template = JSON.parse(readFileSync(path.join(synth.outdir, 'Credwatch.template.json'), 'utf8'));
    const subscriptions = Object.values(
      template.Resources as Record<string, { Type: string; Properties: { Endpoint?: string } }>,
    )
      .filter((r) => r.Type === 'AWS::SNS::Subscription')
      .map((r) => r.Properties.Endpoint);
    expect(subscriptions).toEqual(['secops@example.com']);
    // The manifest leaves the environment to the deployment's credentials.
    const manifest = JSON.parse(readFileSync(path.join(synth.outdir, 'manifest.json'), 'utf8'));
    expect(manifest.artifacts.Credwatch.environment).toBe('aws://unknown-account/unknown-region');
  }, 240_000);
});
