// Shell-style wildcards (`*`, `?`) as a RegExp: host patterns and known_hosts names both use them.

/** `web*` -> /^web.*$/; every other character is taken literally. */
export const globToRegExp = (pattern: string, flags = ''): RegExp =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, flags);
