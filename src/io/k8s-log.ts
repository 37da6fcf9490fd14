/**
 * Reads conmon's k8s-file log format back into the text the process wrote: each
 * line is `<RFC3339 time> <stdout|stderr> <P|F> <content>`, where F ends a line and
 * P is a partial one (no newline was written).
 */
export function textOfK8sLog(log: string): string {
  let text = '';
  for (const line of log.split('\n')) {
    if (line === '') continue;
    const match = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/.exec(line);
    if (!match) continue;
    text += match[1] === 'F' ? `${match[2]}\n` : match[2];
  }
  return text;
}
