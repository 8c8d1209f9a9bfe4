import './trusted-types.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { takeLinkToken } from './signin-link.ts';
import './styles.css';

// Before anything renders: a sign-in link's token leaves the address at once.
const linkToken = takeLinkToken();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App linkToken={linkToken} />
  </StrictMode>,
);
