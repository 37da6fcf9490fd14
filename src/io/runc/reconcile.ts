import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { killConfirmed } from '../os/os-process.js';
import { processesNaming } from './attempt-processes.js';
import { removeUnknownCgroups } from './runc-bundle.js';
import type { RuncCli } from './runc-cli.js';

/**
 * Before restore: what a supervisor killed in the middle of a create left
 * behind, which the registry never learned of — a runc container of this state
 * dir, its conmon, a runc call still running, an empty cgroup — is killed and
 * removed, so the id can be used again. Its directory is quarantined afterwards.
 * Only what is provably this state dir's is touched: processes whose command
 * line names its containers dir, and `ours`: the runc containers whose bundle is there.
 */
export async function reconcileUnknown(
  runc: RuncCli,
  ours: { id: string }[],
  conmon: string,
  containersDir: string,
  cgroupParent: string | undefined,
  known: ReadonlySet<string>,
): Promise<void> {
  const prefix = `${containersDir}/`;
  const tools = new Set([conmon, runc.path, 'conmon', 'runc']);
  for (const proc of processesNaming(prefix)) {
    const id = proc.args.find((arg) => arg.startsWith(prefix))!.slice(prefix.length).split('/')[0]!;
    const isTool = proc.args.slice(0, 2).some((arg) => tools.has(arg) || tools.has(basename(arg)));
    if (isTool && !known.has(id)) killConfirmed(proc.pid, proc.startTime, 'SIGKILL');
  }
  // A `runc create` killed half-way leaves runc a state dir it cannot list; the container's own directory says it was ours.
  const root = runc.root();
  const halfCreated = readdirSync(containersDir).filter((id) => existsSync(join(root, id)));
  for (const id of new Set([...ours.map((c) => c.id), ...halfCreated])) {
    if (known.has(id)) continue;
    await runc.run(['delete', '--force', id]).catch(() => {
      // runc cannot read what it half wrote; in berth's own root, nobody else's container can be there.
      if (root.startsWith(`${join(containersDir, '..')}/`)) rmSync(join(root, id), { recursive: true, force: true });
    });
  }
  if (cgroupParent) await removeUnknownCgroups(cgroupParent, known);
}
