// What the dashboard and gateway roles share, as the guide does it for either bundle: upload and unpack it
// into its own folder (api7-<ver>-cp/, api7-<ver>-dp/), load its images (or pull them), check that every
// image its compose file names is there, copy the etcd client certificates, edit the named keys of the
// shipped conf file, and run the bundle's own compose project (service.ts).
import { posix } from 'node:path';
import { ensureDir, ensureFile, readFileCommand } from '../lib/files.ts';
import { sh } from '../lib/shell.ts';
import { defineStep, type Change, type Step, type StepContext } from '../lib/types.ts';
import { mountSuffixFor, selinuxFact } from '../facts/selinux.ts';
import { imageId, loadBundleImagesStep, planPull, unpackStep, uploadStep } from './bundle.ts';
import { containerPathOf, parseComposeFile, serviceOf, type ComposeFile, type ComposeService } from './compose.ts';
import { bundleFile, imageSource, planeDir, type Plane } from './layout.ts';
import type { RollingGroup } from './lb-drain.ts';
import type { ComposeDeploy } from './service.ts';
import { COMPOSE_FILE, OVERRIDE_FILE, OVERRIDE_HEADER, renderOverride } from './service.ts';
import { ensureTlsFiles, tlsEnabled } from './tls.ts';
import type { EditResult } from './yaml-edit.ts';
import { str } from './vars.ts';

export interface PlaneService {
  plane: Plane;
  /** Variable prefix: dashboard or gateway (`<role>_image_source`, `<role>_compose_service`). */
  role: string;
  /** The conf file inside the bundle folder, e.g. dashboard_conf/conf.yaml. */
  confFile: string;
  /** The named-key edits of the shipped conf; `certsPath` is where the container sees our certificates. */
  editConf(ctx: StepContext, shipped: string, certsPath: string, file: string): EditResult;
  /** The conf holds a password: 0600 and never shown in a diff. */
  confSecret(ctx: StepContext): boolean;
  /** The LB backends its hosts sit in: control (dashboards) or gateway. */
  lbGroup: RollingGroup;
  health(ctx: StepContext): Promise<true | string>;
}

export const serviceName = (ctx: StepContext, p: PlaneService): string => str(ctx.vars, `${p.role}_compose_service`);
const dirOf = (ctx: StepContext, p: PlaneService) => planeDir(ctx.vars, p.plane);
const confOf = (ctx: StepContext, p: PlaneService) => posix.join(dirOf(ctx, p), p.confFile);
const certsDirOf = (ctx: StepContext, p: PlaneService) => posix.join(posix.dirname(confOf(ctx, p)), 'certs');

/** A remote file's content, or undefined when it is not there (a failed read is an error, not "absent"). */
export async function readRemote(ctx: StepContext, path: string): Promise<string | undefined> {
  const r = await ctx.run(readFileCommand(path), { become: true, nothrow: true, secretOutput: true });
  if (r.code !== 0) throw new Error(`cannot read ${path} on ${ctx.host.name}: ${r.stderr.trim()}`);
  const nl = r.stdout.indexOf('\n');
  const head = (nl < 0 ? r.stdout : r.stdout.slice(0, nl)).trim();
  if (head === 'missing') return undefined;
  if (head === 'other') throw new Error(`${path} on ${ctx.host.name} is not a regular file`);
  return r.stdout.slice(nl + 1);
}

/** The bundle's compose file and our service in it; undefined only in --check before the bundle is unpacked. */
export async function bundleCompose(ctx: StepContext, p: PlaneService): Promise<{ file: ComposeFile; service: ComposeService } | undefined> {
  const dir = dirOf(ctx, p);
  const path = posix.join(dir, COMPOSE_FILE);
  const text = await readRemote(ctx, path);
  if (text === undefined) {
    if (ctx.check) return undefined;
    throw new Error(`${path} is missing on ${ctx.host.name}: the ${p.plane} bundle must ship ${COMPOSE_FILE}`);
  }
  const file = parseComposeFile(text, dir, `${path} on ${ctx.host.name}`);
  return { file, service: serviceOf(file, serviceName(ctx, p), path) };
}

/** Where the container sees our etcd client certificates: beside conf, mounted by the override when needed. */
function certsPathOf(ctx: StepContext, p: PlaneService, service: ComposeService): string {
  const conf = containerPathOf(service, confOf(ctx, p));
  if (!conf) throw new Error(`the ${p.plane} bundle's compose file does not mount ${p.confFile}: cannot configure the ${p.role}`);
  return posix.join(posix.dirname(conf), 'certs');
}

/** Every image the compose file names is on the host after the loads; a missing one is an error here, before
 * anything is stopped (an offline host never pulls), or a pull when the image source is the registry. */
async function planComposeImages(ctx: StepContext, p: PlaneService): Promise<Change[]> {
  const c = await bundleCompose(ctx, p);
  if (!c) return [];
  const changes: Change[] = [];
  const missing: string[] = [];
  for (const [name, s] of Object.entries(c.file.services)) {
    if (await imageId(ctx, s.image)) continue;
    if (imageSource(ctx.vars, p.role) === 'registry') changes.push(...(await planPull(ctx, s.image)));
    else if (!ctx.check) missing.push(`${s.image} (service ${name})`);
  }
  if (missing.length) {
    throw new Error(
      `${dirOf(ctx, p)}/${COMPOSE_FILE} on ${ctx.host.name} names images that are neither in the bundle's images/ nor on the host: ` +
        `${missing.join(', ')}. Nothing was stopped; ship them in the bundle (docker save) or set ${p.role}_image_source: registry`,
    );
  }
  return changes;
}

/** From the bundle to the conf file: everything before compose. */
export function planeSteps(p: PlaneService): Step[] {
  const dir = (ctx: StepContext) => dirOf(ctx, p);
  const fromBundle = (ctx: StepContext) => imageSource(ctx.vars, p.role) === 'bundle' || `${p.role}_image_source is registry`;
  return [
    uploadStep(`upload the ${p.plane} bundle`, bundleFile(p.plane)),
    unpackStep(`unpack the ${p.plane} bundle`, bundleFile(p.plane), dir),
    { ...loadBundleImagesStep(`load the ${p.plane} images`, bundleFile(p.plane), dir), when: fromBundle },
    defineStep({ name: `${p.plane} compose images present`, plan: (ctx) => planComposeImages(ctx, p) }),
    defineStep({
      name: 'etcd client certificates',
      when: (ctx) => tlsEnabled(ctx.vars) || 'etcd_tls_enabled is off',
      plan: (ctx) => ensureTlsFiles(ctx, certsDirOf(ctx, p)),
    }),
    defineStep({
      name: `${p.role} ${posix.basename(p.confFile)} (named keys)`,
      async plan(ctx) {
        const path = confOf(ctx, p);
        const c = await bundleCompose(ctx, p);
        const shipped = await readRemote(ctx, path);
        if (!c || shipped === undefined) {
          if (ctx.check) return [{ summary: `edit ${path} once the bundle is unpacked`, apply: async () => undefined }];
          throw new Error(`${path} is missing on ${ctx.host.name}: the ${p.plane} bundle must ship ${p.confFile}`);
        }
        const edited = p.editConf(ctx, shipped, certsPathOf(ctx, p, c.service), `${path} on ${ctx.host.name}`);
        const secret = p.confSecret(ctx);
        const changes = await ensureFile(ctx, { path, content: edited.text, mode: secret ? 0o600 : 0o644, become: true, secret });
        return changes.map((ch) => (edited.changed.length && ch.summary.startsWith('update') ? { ...ch, summary: `${ch.summary}: ${edited.changed.join(', ')}` } : ch));
      },
    }),
    defineStep({
      name: `${p.plane} compose override (certificates, SELinux labels)`,
      async plan(ctx) {
        const c = await bundleCompose(ctx, p);
        if (!c) return [];
        const path = posix.join(dir(ctx), OVERRIDE_FILE);
        const suffix = mountSuffixFor(await ctx.fact(selinuxFact));
        const certs = tlsEnabled(ctx.vars) && !containerPathOf(c.service, `${certsDirOf(ctx, p)}/ca.pem`)
          ? [[`./${posix.join(posix.dirname(p.confFile), 'certs')}`, certsPathOf(ctx, p, c.service)] as [string, string]]
          : [];
        const content = renderOverride(serviceName(ctx, p), dir(ctx), c.service, certs, suffix);
        if (content === undefined) return removeOurOverride(ctx, path);
        return ensureFile(ctx, { path, content, mode: 0o644, become: true });
      },
    }),
  ];
}

/** An override we wrote and no longer need goes; one an operator wrote stays. */
async function removeOurOverride(ctx: StepContext, path: string): Promise<Change[]> {
  const have = await readRemote(ctx, path);
  if (have === undefined || !have.startsWith(OVERRIDE_HEADER)) return [];
  return [{ summary: `remove ${path} (no longer needed)`, apply: async () => void (await ctx.run(sh`rm -f -- ${path}`, { become: true })) }];
}

/** The compose project of the bundle: what the compose step needs from the plane. */
export function planeCompose(p: PlaneService): ComposeDeploy {
  return {
    role: p.role,
    dir: (ctx) => dirOf(ctx, p),
    service: (ctx) => serviceName(ctx, p),
    compose: (ctx) => bundleCompose(ctx, p),
    // What the container reads at start, and our override (a changed mount there needs a recreate too).
    startFiles: (ctx) => [confOf(ctx, p), posix.join(dirOf(ctx, p), OVERRIDE_FILE), ...(tlsEnabled(ctx.vars) ? [certsDirOf(ctx, p)] : [])],
    confPending: async (ctx) => {
      const c = await bundleCompose(ctx, p);
      const path = confOf(ctx, p);
      const shipped = c && (await readRemote(ctx, path));
      if (!c || shipped === undefined) return true;
      return p.editConf(ctx, shipped, certsPathOf(ctx, p, c.service), path).changed.length > 0;
    },
    lbGroup: p.lbGroup,
    health: p.health,
  };
}
