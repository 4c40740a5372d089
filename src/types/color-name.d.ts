/** color-name ships no types: the CSS named colours, lower case, as RGB triples. */
declare module 'color-name' {
  const colours: Readonly<Record<string, readonly [number, number, number]>>;
  export default colours;
}
