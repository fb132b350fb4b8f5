// Stylesheets are bundled by esbuild; to the type checker they are modules.
declare module '*.css';
