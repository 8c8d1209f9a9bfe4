// The server's role matrix, bundled as is: the UI shows what a role may do and hides the rest
// (the server enforces it either way).
export { can, canIn, PERMISSIONS, SOLO_ROLES, type Permission, type Role } from '../label/roles.ts';
