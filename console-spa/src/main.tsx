import { render } from 'preact';
import { App } from './app';
import { initI18n } from './i18n';
import './styles.css';

initI18n().then(() => render(<App />, document.getElementById('app')!));
