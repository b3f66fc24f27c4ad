/** Writes the conversation: incoming lines in red where colour is wanted, status lines dimmed. */
export class Output {
  readonly #color: boolean;
  readonly #prefix: string;

  /** `prefix` tells two processes apart when they share one terminal (the partner's lines). */
  constructor(prefix = '', stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env) {
    this.#prefix = prefix;
    // https://no-color.org: any non-empty NO_COLOR turns colour off.
    const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
    this.#color = stream.isTTY === true && !noColor;
  }

  /** Whether lines are coloured (a terminal, and NO_COLOR unset or empty). */
  get colored(): boolean {
    return this.#color;
  }

  incoming(text: string): void {
    this.#line(this.#color ? `\x1b[31m< ${text}\x1b[0m` : `< ${text}`);
  }

  sent(text: string): void {
    this.#line(`> ${text}`);
  }

  status(text: string): void {
    this.#line(this.#color ? `\x1b[2m* ${text}\x1b[0m` : `* ${text}`);
  }

  #line(text: string): void {
    process.stdout.write(`${this.#prefix}${text}\n`);
  }
}
