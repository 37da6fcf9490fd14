import type { Command, Option } from 'commander';

/**
 * Shell completion scripts, generated from the command tree, so a command or
 * flag added later completes without anyone editing a script. Commands and flags
 * complete with their descriptions (zsh, fish); a command's `<id>` with the
 * containers `berth ps -q` lists in the same state dir.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Tree {
  globals: Option[];
  /** Global options that take a value: the word after one is not a command. */
  valued: string[];
  commands: { names: string[]; description: string; options: Option[]; takesId: boolean }[];
}

/** Commands whose `<id>` names a container they make: no existing id fits. */
const NAMES_NEW_ID = ['run', 'create'];

function tree(program: Command): Tree {
  const visible = (options: readonly Option[]) => options.filter((o) => !o.hidden && o.long);
  const globals = [...visible(program.options), ...visible([program.createHelp().visibleOptions(program).at(-1)!])];
  return {
    globals,
    valued: globals.filter((o) => o.required || o.optional).flatMap((o) => [o.long!, ...(o.short ? [o.short] : [])]),
    commands: program.commands.map((c) => ({
      names: [c.name(), ...c.aliases()],
      description: c.description(),
      options: visible(c.options),
      takesId: c.registeredArguments[0]?.name() === 'id' && !NAMES_NEW_ID.includes(c.name()),
    })),
  };
}

const flags = (options: Option[]) => options.flatMap((o) => [o.long!, ...(o.short ? [o.short] : [])]);
const sq = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** The words before the cursor, past the global options and their values: the command, if one is given yet. */
const findCommand = (valued: string[], words: string, first: number) => `for ((i = ${first}; i < CURRENT_WORD; i++)); do
    case "\${${words}[i]}" in
      ${valued.join('|')}) ((i++)) ;;
      -*) ;;
      *) cmd="\${${words}[i]}"; break ;;
    esac
  done`;

/** Container ids for `<id>`: `berth ps -q` with the state dir the line names. */
const IDS = `berth \${state_dir:+--state-dir "$state_dir"} ps -q 2>/dev/null`;

function bash(t: Tree): string {
  const cases = t.commands.map((c) => `    ${c.names.join('|')}) words=${sq(flags(c.options).join(' '))}; ids=${c.takesId ? 1 : 0} ;;`).join('\n');
  return `# berth completion for bash: source <(berth completion bash)
_berth() {
  local CURRENT_WORD=$COMP_CWORD cur="\${COMP_WORDS[COMP_CWORD]}" words ids=0 state_dir="" cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do [[ "\${COMP_WORDS[i]}" == --state-dir ]] && state_dir="\${COMP_WORDS[i+1]}"; done
  ${findCommand(t.valued, 'COMP_WORDS', 1)}
  case "$cmd" in
    "") words=${sq([...t.commands.flatMap((c) => c.names), ...flags(t.globals)].join(' '))} ;;
${cases}
  esac
  if [[ $ids == 1 && "$cur" != -* ]]; then words="$(${IDS})"; fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _berth berth
`;
}

/** zsh's _describe entries: `name:description`, a colon in the name escaped. */
const described = (entries: [string, string][]) => entries.map(([name, text]) => sq(`${name.replace(/:/g, '\\:')}:${text}`)).join(' ');
const optionEntries = (options: Option[]): [string, string][] => options.flatMap((o) => flags([o]).map((f): [string, string] => [f, o.description]));

function zsh(t: Tree): string {
  const cases = t.commands
    .map((c) => `    ${c.names.join('|')}) entries=(${described(optionEntries(c.options))}); ids=${c.takesId ? 1 : 0} ;;`)
    .join('\n');
  const commands = t.commands.flatMap((c) => c.names.map((n): [string, string] => [n, c.description]));
  return `#compdef berth
# berth completion for zsh: berth completion zsh > "\${fpath[1]}/_berth", or source <(berth completion zsh)
_berth() {
  local CURRENT_WORD=$CURRENT cmd="" i ids=0 state_dir=\${words[(i)--state-dir]}; local -a entries
  (( state_dir < CURRENT )) && state_dir=\${words[state_dir+1]} || state_dir=""
  ${findCommand(t.valued, 'words', 2)}
  case "$cmd" in
    "") entries=(${described([...commands, ...optionEntries(t.globals)])}) ;;
${cases}
  esac
  if [[ $ids == 1 && "\${words[CURRENT]}" != -* ]]; then entries=(\${(f)"$(${IDS})"}); fi
  _describe berth entries
}
# Autoloaded from fpath, this file is _berth's body: complete now. Sourced: register it.
if [[ "\${funcstack[1]}" == _berth ]]; then _berth "$@"; else compdef _berth berth; fi
`;
}

function fish(t: Tree): string {
  const option = (o: Option, condition: string) =>
    `complete -c berth${condition} -l ${o.long!.slice(2)}${o.short ? ` -s ${o.short.slice(1)}` : ''}${o.required || o.optional ? ' -r' : ''}${o.argChoices ? ` -a ${sq(o.argChoices.join(' '))}` : ''} -d ${sq(o.description)}`;
  const lines = ['# berth completion for fish: berth completion fish > ~/.config/fish/completions/berth.fish', 'complete -c berth -f'];
  lines.push(...t.globals.map((o) => option(o, '')));
  for (const c of t.commands) {
    for (const name of c.names) lines.push(`complete -c berth -n __fish_use_subcommand -a ${name} -d ${sq(c.description)}`);
    const seen = ` -n ${sq(`__fish_seen_subcommand_from ${c.names.join(' ')}`)}`;
    lines.push(...c.options.map((o) => option(o, seen)));
    if (c.takesId) lines.push(`complete -c berth${seen} -a '(berth ps -q 2>/dev/null)'`);
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(program: Command, shell: Shell): string {
  return { bash, zsh, fish }[shell](tree(program));
}
