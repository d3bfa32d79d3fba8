/**
 * Colour for the terminal timeline: on when writing to a terminal, off when
 * piped or when NO_COLOR is set to anything but "" (https://no-color.org).
 * FORCE_COLOR turns it on anyway (CI logs, `script`). Plain ANSI SGR codes.
 */

export interface ColourEnv {
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function wantsColour({ isTTY, env }: ColourEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return isTTY && env.TERM !== "dumb";
}

export type Style = (text: string) => string;

export interface Palette {
  readonly bold: Style;
  readonly dim: Style;
  readonly red: Style;
  readonly green: Style;
  readonly yellow: Style;
  readonly blue: Style;
  readonly magenta: Style;
  readonly cyan: Style;
  readonly inverse: Style;
}

const sgr =
  (open: number, close: number): Style =>
  (text) =>
    `\u001b[${open}m${text}\u001b[${close}m`;

const plain: Style = (text) => text;

export function palette(enabled: boolean): Palette {
  if (!enabled) {
    return {
      bold: plain,
      dim: plain,
      red: plain,
      green: plain,
      yellow: plain,
      blue: plain,
      magenta: plain,
      cyan: plain,
      inverse: plain,
    };
  }
  return {
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    blue: sgr(34, 39),
    magenta: sgr(35, 39),
    cyan: sgr(36, 39),
    inverse: sgr(7, 27),
  };
}
