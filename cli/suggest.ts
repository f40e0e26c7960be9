// "did you mean ...?" for a misspelled name: flags, config keys, backend fields. Pure, so the
// program (infra/) and the commands share it without the program depending on the CLI kit.

/** Edit distance (insert, delete, substitute, swap of neighbours), case-insensitive. */
function distance(a: string, b: string): number {
    const s = a.toLowerCase();
    const t = b.toLowerCase();
    const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
        Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
    );
    for (let i = 1; i <= s.length; i++) {
        for (let j = 1; j <= t.length; j++) {
            const cost = s[i - 1] === t[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
                d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[s.length][t.length];
}

/**
 * The known name closest to `name`, when it is close enough to be a typo (at most a third of its
 * letters wrong, or one is a prefix of the other), else undefined: a wild guess misleads more
 * than no guess.
 */
export function closest(name: string, known: readonly string[]): string | undefined {
    let best: { name: string; d: number } | undefined;
    for (const candidate of known) {
        const d = distance(name, candidate);
        if (!best || d < best.d) {
            best = { name: candidate, d };
        }
    }
    if (!best) {
        return undefined;
    }
    const prefix =
        best.name.toLowerCase().startsWith(name.toLowerCase()) ||
        name.toLowerCase().startsWith(best.name.toLowerCase());
    return best.d <= Math.max(1, Math.floor(name.length / 3)) ||
        (prefix && Math.min(name.length, best.name.length) >= 3)
        ? best.name
        : undefined;
}

/** "; did you mean X?" or "" when nothing is close. */
export function didYouMean(name: string, known: readonly string[], show: (name: string) => string = (n) => n): string {
    const match = closest(name, known);
    return match === undefined ? "" : `; did you mean ${show(match)}?`;
}

/** "1 pong", "2 pongs". */
export function plural(count: number, word: string, pluralWord = `${word}s`): string {
    return `${count} ${count === 1 ? word : pluralWord}`;
}
