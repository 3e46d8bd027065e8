// Which compose a host has, as the argv prefix later roles put before `-p <project> up -d`:
// `docker compose` (v2 plugin) when present, else `docker-compose` (v1). They never guess.
import { defineFact } from '../../lib/types.ts';
import { COMPOSE_PROBE, parseDocker, type DockerInfo } from './facts.ts';

export type ComposeArgv = ['docker', 'compose'] | ['docker-compose'];

/** undefined when neither is installed. */
export const composeArgvOf = (d: DockerInfo): ComposeArgv | undefined =>
  d.composeV2 ? ['docker', 'compose'] : d.composeV1 ? ['docker-compose'] : undefined;

/**
 * The fact later roles read: `argv(await ctx.fact(composeCommand))` + their own words.
 * Throws (fails the step) when the host has no compose: run the docker role first.
 */
export const composeCommand = defineFact<ComposeArgv>({
  name: 'compose command',
  become: true,
  command: COMPOSE_PROBE,
  parse(result) {
    const found = composeArgvOf(parseDocker(result.stdout));
    if (!found) throw new Error('neither `docker compose` nor `docker-compose` is installed (run the docker role first)');
    return found;
  },
});
