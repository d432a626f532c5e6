// CSS imported for its side effect: esbuild gathers it into dist/webview.css.
declare module '*.css';
