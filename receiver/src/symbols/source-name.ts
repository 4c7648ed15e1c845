/**
 * An original file name from a source map's `sources` as pages show it, the way Sentry does:
 * `src/util.js`, not `../../src/util.js` or `webpack://shop/./src/util.js`.
 *
 * The source-map library has already joined `sourceRoot` and taken out `.` and `a/..`
 * segments; what is left is how the bundler wrote the path relative to the map. Then, in
 * order and nothing else (so the same map always gives the same names):
 * 1. `webpack:///` and `webpack://<name>/` are removed (webpack's namespace, not a folder);
 * 2. leading `./` and `../` segments are removed (the map's folder is no part of the app);
 * 3. if nothing is left, the name stays as it was;
 * 4. `%20` reads as a space (the source-map library writes webpack's `jsonp chunk loading` as
 *    a URL); no other escape is decoded, so no control character or `/` can appear.
 * Other URLs (`https://…`, `file:///…`) and absolute paths are kept: they already say where
 * the file is. The name is for showing and classifying; lookups in the map use the raw one.
 *
 * @example displaySourceName('../../src/util.js')              // 'src/util.js'
 * @example displaySourceName('webpack://shop/./src/cart.ts')   // 'src/cart.ts'
 * @example displaySourceName('webpack:///node_modules/a/i.js') // 'node_modules/a/i.js'
 * @example displaySourceName('webpack://shop/webpack/runtime/jsonp%20chunk%20loading') // 'webpack/runtime/jsonp chunk loading'
 */
export function displaySourceName(source: string): string {
  const name = source
    .replace(/^webpack:\/\/[^/]*\//, '')
    .replace(/^(?:\.\.?\/)+/, '');
  return (name === '' ? source : name).replaceAll('%20', ' ');
}
