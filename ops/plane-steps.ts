// What the dashboard and gateway roles share, as the guide does it for either bundle: upload and unpack it
// into its own folder (api7-<ver>-cp/, api7-<ver>-dp/), load its images (or pull them), check that every
// image its compose file names is there, copy the etcd client certificates, edit the named keys of the
// shipped conf file, and run the bundle's own compose project (service.ts), one host at a time.
//
// Each role's index.ts lists these steps by name, in that order; here is what each looks at and plans. What
// they look at is the role's facts (`planeFacts`), read in one batch when the role starts on a host. After a
// change of this plane on the host (an unpack rewrites the shipped conf, a load adds images, a conf write
// changes what the container must have started after), the next steps read again what they look at.
import { posix } from 'node:path';
import { around } from '../lib/change.ts';
import { ensureFile, fileFact, type FileState } from '../lib/files.ts';
import { settlingReads } from '../lib/facts.ts';
import { sh } from '../lib/shell.ts';
import { defineFact, type Change, type Fact, type StepContext } from '../lib/types.ts';
import { mountSuffixFor, selinuxFact } from '../facts/selinux.ts';
import { stackVars } from '../vars/schema.ts';
import { bundleImagesFact, bundleStampFact, hostImagesFact, imageIdOn, manifestFromCache, planImageLoads, planUnpack, planUpload, pullChange, remoteShaFact } from './bundle.ts';
import { localSha256 } from './local-checksum.ts';
import { localManifest } from './local-manifest.ts';
import { containerPathOf, parseComposeFile, serviceOf, type ComposeFile, type ComposeService } from './compose.ts';
import { normalizeRef, parseTarballManifest } from './docker.ts';
import { bundleFile, imageSource, planeDir, type Plane } from './layout.ts';
import type { RollingGroup } from './lb-drain.ts';
import { COMPOSE_FILE, healthGate, OVERRIDE_FILE, OVERRIDE_HEADER, planComposeUp, renderOverride, serviceStateFact } from './service.ts';
import { warnIfEtcdAuthOff } from './etcd-auth-off.ts';
import { ensureTlsFiles, tlsEnabled, tlsFileFacts } from './tls.ts';
import type { EditResult } from './yaml-edit.ts';

export interface PlaneService {
  plane: Plane;
  /** dashboard or gateway: the variables `<role>_image_source`, `<role>_compose_service`. */
  role: 'dashboard' | 'gateway';
  /** The conf file inside the bundle folder, e.g. dashboard_conf/conf.yaml. */
  confFile: string;
  /** The named-key edits of the shipped conf; `certsPath` is where the container sees our certificates. */
  editConf(ctx: StepContext, shipped: string, certsPath: string, file: string): EditResult;
  /** The conf holds a password: 0600 and never shown in a diff. */
  confSecret(ctx: StepContext): boolean;
  /** The LB backends its hosts sit in: control (dashboards) or gateway. */
  lbGroup: RollingGroup;
  /** The read that says whether the service serves now (the gate after a restart, and the step's verify). */
  healthFact(ctx: StepContext): Fact<true | string>;
  /** The same read as a converged host answers it, taken in the role's batch (default: healthFact). */
  expectedHealthFact?(ctx: StepContext): Fact<true | string>;
}

/** A new health read (the gate after a restart). */
const healthNow = (p: PlaneService) => (ctx: StepContext) => ctx.fact(p.healthFact(ctx), { fresh: true });

/** The step's gate: the run's read while nothing changed since it was taken (a converged run's batch), then new ones. */
const healthSettled = (p: PlaneService) => (ctx: StepContext) => healthGate(ctx, p.role, settlingReads((opts) => ctx.fact(p.healthFact(ctx), opts)));

/** Where a plane lives on the host: its bundle folder and the files in it we read or write. */
export function planePaths(ctx: StepContext, p: PlaneService) {
  const dir = planeDir(ctx.vars, p.plane);
  const conf = posix.join(dir, p.confFile);
  return {
    dir,
    tarball: bundleFile(p.plane),
    compose: posix.join(dir, COMPOSE_FILE),
    conf,
    override: posix.join(dir, OVERRIDE_FILE),
    /** Our etcd client certificates, beside the conf (its folder is what the compose file mounts). */
    certs: posix.join(posix.dirname(conf), 'certs'),
  };
}

export const serviceName = (ctx: StepContext, p: PlaneService): string => stackVars(ctx)[`${p.role}_compose_service`];

/** SELinux's mode read as root, so it rides in the role's root batch. */
const selinuxAsRoot = defineFact({ ...selinuxFact, become: true });

/** What the container reads at start, and our override (a changed mount there needs a recreate too). */
function startFiles(ctx: StepContext, p: PlaneService): string[] {
  const at = planePaths(ctx, p);
  return [at.conf, at.override, ...(tlsEnabled(ctx.vars) ? [at.certs] : [])];
}

const serviceState = (ctx: StepContext, p: PlaneService) => serviceStateFact(serviceName(ctx, p), startFiles(ctx, p));

/** Everything the plane's steps look at on a host: the role reads them in one batch. */
export function planeFacts(ctx: StepContext, p: PlaneService): Fact<unknown>[] {
  const at = planePaths(ctx, p);
  return [
    remoteShaFact(at.tarball.remote(ctx)),
    bundleStampFact(at.dir),
    ...(imageSource(ctx.vars, p.role) === 'bundle' ? [bundleImagesFact(at.dir)] : []),
    hostImagesFact,
    fileFact(at.compose, true),
    ...(tlsEnabled(ctx.vars) ? tlsFileFacts(at.certs) : []),
    fileFact(at.conf, true),
    selinuxAsRoot,
    fileFact(at.override, true),
    serviceState(ctx, p),
    (p.expectedHealthFact ?? p.healthFact)(ctx),
  ];
}

// ---------------------------------------------------------------- the steps, in the guide's order

/** The plan of each step (and the `when`s and the verify), for a role's index.ts to list by name. */
export function planeSteps(p: PlaneService) {
  return {
    facts: (ctx: StepContext) => planeFacts(ctx, p),

    /** The bundle tarball is on the host, byte for byte. */
    upload: (ctx: StepContext) => counted(ctx, p, planUpload(ctx, planePaths(ctx, p).tarball)),

    /** It is unpacked into its own folder (stamped with its checksum): the guide's `tar -xzf`. */
    async unpack(ctx: StepContext) {
      const at = planePaths(ctx, p);
      await look(ctx, p, [bundleStampFact(at.dir)]);
      return counted(ctx, p, planUnpack(ctx, at.tarball, at.dir));
    },

    fromBundle: (ctx: StepContext) => imageSource(ctx.vars, p.role) === 'bundle' || `${p.role}_image_source is registry`,

    /** `docker load -i images/<tarball>` for a tarball holding an image ID the host lacks. */
    async loadImages(ctx: StepContext) {
      const at = planePaths(ctx, p);
      await look(ctx, p, [bundleImagesFact(at.dir), hostImagesFact]);
      const listed = await readFact(ctx, bundleImagesFact(at.dir));
      const tarballs = listed === 'missing' ? [] : listed;
      if (!tarballs.length && !ctx.check) throw new Error(`no image tarballs in ${at.dir}/images on ${ctx.host.name}`);
      const bundle = at.tarball.local(ctx);
      const sha = await localSha256(bundle);
      return counted(ctx, p, planImageLoads(ctx, tarballs, sha, (ref) => imageIdOn(ctx, ref), controllerManifest(bundle, sha)));
    },

    /**
     * Every image the compose file names is on the host: a missing one is an error here, before anything is
     * stopped (an offline host never pulls), or a pull when the image source is the registry. In --check the
     * loads have not run: an image is missing only when the bundle's manifests are known and lack it, and the
     * plan then says the run will fail here (a warning: failing is not a change the run makes).
     */
    async imagesPresent(ctx: StepContext) {
      const at = planePaths(ctx, p);
      await look(ctx, p, [fileFact(at.compose, true), hostImagesFact]);
      const c = await bundleCompose(ctx, p);
      if (!c) return [];
      const changes: Change[] = [];
      const missing: string[] = [];
      const loadable = ctx.check ? await refsTheLoadsBring(ctx, p) : new Set<string>();
      for (const [name, s] of Object.entries(c.file.services)) {
        if (await imageIdOn(ctx, s.image)) continue;
        if (imageSource(ctx.vars, p.role) === 'registry') changes.push(pullChange(s.image));
        else if (!ctx.check || (loadable !== 'unknown' && !loadable.has(normalizeRef(s.image)))) missing.push(`${s.image} (service ${name})`);
      }
      if (missing.length) {
        const why =
          `${at.compose} on ${ctx.host.name} names images that are neither in the bundle's images/ nor on the host: ` +
          `${missing.join(', ')}. Nothing was stopped; ship them in the bundle (docker save) or set ${p.role}_image_source: registry`;
        if (!ctx.check) throw new Error(why);
        ctx.warn(`--check: the run will fail at the ${p.plane} compose image check: ${why.replace('Nothing was stopped', 'It will stop nothing')}`);
      }
      return counted(ctx, p, changes);
    },

    tlsOn: (ctx: StepContext) => tlsEnabled(ctx.vars) || 'etcd_tls_enabled is off',

    /** ca.pem, cert.pem, key.pem (0600) beside the conf. */
    async certificates(ctx: StepContext) {
      const { certs } = planePaths(ctx, p);
      await look(ctx, p, tlsFileFacts(certs));
      return counted(ctx, p, ensureTlsFiles(ctx, certs));
    },

    /** The named keys of the shipped conf file, edited in place (comments and every other key stay). */
    async conf(ctx: StepContext) {
      // The conf names etcd without credentials while auth is off: this play warns, not only the etcd play.
      warnIfEtcdAuthOff(ctx);
      const at = planePaths(ctx, p);
      await look(ctx, p, [fileFact(at.compose, true), fileFact(at.conf, true)]);
      const c = await bundleCompose(ctx, p);
      const shipped = await readFile(ctx, at.conf);
      if (!c || shipped === undefined) {
        if (ctx.check) return [{ summary: `edit ${at.conf} once the bundle is unpacked` }];
        throw new Error(`${at.conf} is missing on ${ctx.host.name}: the ${p.plane} bundle must ship ${p.confFile}`);
      }
      const edited = p.editConf(ctx, shipped, certsPathOf(ctx, p, c.service), `${at.conf} on ${ctx.host.name}`);
      const secret = p.confSecret(ctx);
      const changes = await ensureFile(ctx, { path: at.conf, content: edited.text, mode: secret ? 0o600 : 0o644, become: true, secret });
      const named = changes.map((ch) => (edited.changed.length && ch.summary.startsWith('update') ? { ...ch, summary: `${ch.summary}: ${edited.changed.join(', ')}` } : ch));
      return counted(ctx, p, named);
    },

    /** docker-compose.override.yaml, only for what the vendor's file lacks (certificates, SELinux labels). */
    async override(ctx: StepContext) {
      const at = planePaths(ctx, p);
      await look(ctx, p, [fileFact(at.compose, true), fileFact(at.override, true)]);
      const c = await bundleCompose(ctx, p);
      if (!c) return [];
      const content = await wantedOverride(ctx, p, c.service);
      if (content !== undefined) return counted(ctx, p, ensureFile(ctx, { path: at.override, content, mode: 0o644, become: true }));
      // An override we wrote and no longer need goes; one an operator wrote stays.
      if (!ourOverride(await readFile(ctx, at.override))) return [];
      return counted(ctx, p, [{ summary: `remove ${at.override} (no longer needed)`, commands: [sh`rm -f -- ${at.override}`] }]);
    },

    /** `docker compose up -d` in the bundle folder when the running container is not the wanted one: rolling, gated. */
    async composeUp(ctx: StepContext) {
      const at = planePaths(ctx, p);
      await look(ctx, p, [fileFact(at.compose, true), serviceState(ctx, p), hostImagesFact]);
      const c = await bundleCompose(ctx, p);
      if (!c) return [{ summary: `${p.role}: docker compose up -d in ${at.dir} (once the bundle is unpacked)` }];
      return counted(ctx, p, planComposeUp(ctx, {
        role: p.role,
        dir: at.dir,
        service: serviceName(ctx, p),
        imageId: await imageIdOn(ctx, c.service.image),
        state: await readFact(ctx, serviceState(ctx, p)),
        confPending: ctx.check && (await confPending(ctx, p)),
        lbGroup: p.lbGroup,
        health: healthNow(p),
      }));
    },

    /** The step's verify: the service answers its health read (in --check nothing was started to check). */
    healthy: (ctx: StepContext) => (ctx.check ? Promise.resolve() : healthSettled(p)(ctx)),
  };
}

// ---------------------------------------------------------------- reading what is there

/** A fact of the role's batch; a failed read names the host (the runner adds the step). */
const readFact = <T>(ctx: StepContext, fact: Fact<T>): Promise<T> =>
  ctx.fact(fact).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)} on ${ctx.host.name}`);
  });

/** A file's content, undefined when it is not there; not a regular file is an error. */
async function readFile(ctx: StepContext, path: string): Promise<string | undefined> {
  const f: FileState = await readFact(ctx, fileFact(path, true));
  if (f.kind === 'other') throw new Error(`${path} on ${ctx.host.name} is not a regular file`);
  return f.kind === 'file' ? f.content : undefined;
}

/** The bundle's compose file and our service in it; undefined only in --check before the bundle is unpacked. */
export async function bundleCompose(ctx: StepContext, p: PlaneService): Promise<{ file: ComposeFile; service: ComposeService } | undefined> {
  const at = planePaths(ctx, p);
  const text = await readFile(ctx, at.compose);
  if (text === undefined) {
    if (ctx.check) return undefined;
    throw new Error(`${at.compose} is missing on ${ctx.host.name}: the ${p.plane} bundle must ship ${COMPOSE_FILE}`);
  }
  const file = parseComposeFile(text, at.dir, `${at.compose} on ${ctx.host.name}`);
  return { file, service: serviceOf(file, serviceName(ctx, p), at.compose) };
}

/**
 * --check: the refs the bundle's image tarballs hold (what the planned loads will bring), from their manifests as
 * the load step reads them (cached beside them for this bundle, or from the controller's copy); 'unknown' when
 * one cannot be told (nothing to judge by).
 */
async function refsTheLoadsBring(ctx: StepContext, p: PlaneService): Promise<Set<string> | 'unknown'> {
  if (imageSource(ctx.vars, p.role) !== 'bundle') return new Set();
  const at = planePaths(ctx, p);
  const listed = await readFact(ctx, bundleImagesFact(at.dir));
  if (listed === 'missing') return 'unknown';
  const bundle = at.tarball.local(ctx);
  const key = await localSha256(bundle);
  const refs = new Set<string>();
  for (const t of listed) {
    const manifest = manifestFromCache(t.cache, key) ?? (await controllerManifest(bundle, key)(t.path));
    if (manifest === undefined) return 'unknown';
    for (const img of parseTarballManifest(manifest)) for (const ref of [img.id, ...img.tags]) refs.add(normalizeRef(ref));
  }
  return refs;
}

/** A host tarball's manifest from the controller's copy of `bundle` (checksum `sha`): the tarball is in its images/. */
const controllerManifest = (bundle: string, sha: string) => (hostTarball: string) => localManifest(bundle, sha, posix.basename(hostTarball));

/** Where the container sees our etcd client certificates: beside conf, mounted by the override when needed. */
function certsPathOf(ctx: StepContext, p: PlaneService, service: ComposeService): string {
  const conf = containerPathOf(service, planePaths(ctx, p).conf);
  if (!conf) throw new Error(`the ${p.plane} bundle's compose file does not mount ${p.confFile}: cannot configure the ${p.role}`);
  return posix.join(posix.dirname(conf), 'certs');
}

/** docker-compose.override.yaml as it should be (certificates, SELinux labels), undefined when none is needed. */
async function wantedOverride(ctx: StepContext, p: PlaneService, service: ComposeService): Promise<string | undefined> {
  const at = planePaths(ctx, p);
  const suffix = mountSuffixFor(await readFact(ctx, selinuxAsRoot));
  const certs = tlsEnabled(ctx.vars) && !containerPathOf(service, `${at.certs}/ca.pem`)
    ? [[`./${posix.join(posix.dirname(p.confFile), 'certs')}`, certsPathOf(ctx, p, service)] as [string, string]]
    : [];
  return renderOverride(serviceName(ctx, p), at.dir, service, certs, suffix);
}

const ourOverride = (text: string | undefined): boolean => text?.startsWith(OVERRIDE_HEADER) ?? false;

/** --check: the conf or override step would still change its file (so the container would be recreated). */
async function confPending(ctx: StepContext, p: PlaneService): Promise<boolean> {
  const c = await bundleCompose(ctx, p);
  const at = planePaths(ctx, p);
  const shipped = c && (await readFile(ctx, at.conf));
  if (!c || shipped === undefined) return true;
  if (p.editConf(ctx, shipped, certsPathOf(ctx, p, c.service), at.conf).changed.length > 0) return true;
  const [want, have] = [await wantedOverride(ctx, p, c.service), await readFile(ctx, at.override)];
  return want === undefined ? ourOverride(have) : want !== have;
}

// ---------------------------------------------------------------- re-reading after our own changes

/** Per play and host: how many changes of this plane were applied, and at which count each fact was last read. */
function changesOn(ctx: StepContext, p: PlaneService): { applied: number; readAt: Map<string, number> } {
  const key = `${p.plane} changes on ${ctx.host.name}`;
  let s = ctx.play.state.get(key) as { applied: number; readAt: Map<string, number> } | undefined;
  if (!s) ctx.play.state.set(key, (s = { applied: 0, readAt: new Map() }));
  return s;
}

/** Changes counted when applied (even a failed one may have changed something): the later steps then read again. */
async function counted(ctx: StepContext, p: PlaneService, planned: Change[] | Promise<Change[]>): Promise<Change[]> {
  return (await planned).map((c) => around(c, async (inner) => {
    try {
      await inner();
    } finally {
      changesOn(ctx, p).applied++;
    }
  }));
}

/** Re-reads these facts if a change was applied on this host since they were read (the batch's copy is stale). */
async function look(ctx: StepContext, p: PlaneService, facts: Fact<unknown>[]): Promise<void> {
  const s = changesOn(ctx, p);
  const stale = facts.filter((f) => (s.readAt.get(f.name) ?? 0) < s.applied);
  for (const f of stale) s.readAt.set(f.name, s.applied);
  // A failed read is not kept: the step's own read of it tries again and fails with the reason.
  await Promise.allSettled(stale.map((f) => ctx.fact(f, { fresh: true })));
}
