import { Option, type Command } from 'commander';
import { EVENT_TYPES, type BerthEvent, type EventType, type EventsQuery } from '../../types.js';
import { eventLine } from '../output.js';
import { globals } from '../program.js';
import { count, time } from './flag-values.js';
import { collect, stopSignal, withBackend } from './shared.js';

export function eventsCommand(program: Command): void {
  program
    .command('events')
    .description('the journal: stored rows, then live ones with --follow')
    .option('--since <time>', 'rows from this time on (ISO 8601)', time)
    .option('--after <seq>', 'rows after this seq', count)
    .option('--id <id>', 'one container only')
    .addOption(new Option('--type <type>', 'only this type (repeatable)').choices(EVENT_TYPES as string[]).argParser(collect))
    .option('-f, --follow', 'keep printing new rows (across daemon restarts)')
    .action(async (flags: { since?: Date; after?: number; id?: string; type?: string[]; follow?: boolean }) => {
      const query: EventsQuery = { storedOnly: !flags.follow };
      if (flags.after !== undefined) query.after = flags.after;
      else query.since = flags.since ?? new Date(0);
      if (flags.id) query.id = flags.id;
      if (flags.type) query.types = flags.type as EventType[];
      const show = (e: BerthEvent) => console.log(globals().json ? JSON.stringify(e) : eventLine(e));
      const interrupted = stopSignal();
      const { from, lastValueFrom, takeUntil, tap } = await import('rxjs');
      await withBackend(
        (b) => lastValueFrom(b.events(query).pipe(takeUntil(from(interrupted)), tap(show)), { defaultValue: undefined }),
        { serve: flags.follow },
      );
    });
}
