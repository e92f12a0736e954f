// Firebase Auth (email and password) for the session interface of session.js; loaded only in Firebase mode.
import { initializeApp } from "firebase/app";
import {
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  getAuth,
  onAuthStateChanged,
  signInWithEmailAndPassword,
  signOut,
} from "firebase/auth";
import { firebaseAuthMessage } from "./messages.js";

function explained(call) {
  return call.catch((error) => {
    throw new Error(firebaseAuthMessage(error));
  });
}

export function firebaseBackend(config, notify) {
  // The Auth emulator takes any API key; a project run on the emulators may have configured none.
  const app = initializeApp(config.auth_emulator ? { apiKey: "emulator", ...config.firebase } : config.firebase);
  const auth = getAuth(app);
  if (config.auth_emulator) connectAuthEmulator(auth, config.auth_emulator, { disableWarnings: true });
  // Firebase restores a saved session asynchronously: the first state report is the answer to "who is it?".
  const ready = new Promise((resolve) => {
    let first = true;
    onAuthStateChanged(auth, (user) => {
      if (first) {
        first = false;
        resolve();
      }
      notify(user && { uid: user.uid, email: user.email });
    });
  });
  const current = async () => {
    await ready;
    return auth.currentUser;
  };
  return {
    mode: "firebase",
    async user() {
      const user = await current();
      return user && { uid: user.uid, email: user.email };
    },
    async token() {
      const user = await current();
      return user ? user.getIdToken() : null;
    },
    signIn: (email, password) => explained(signInWithEmailAndPassword(auth, email, password)),
    signUp: (email, password) => explained(createUserWithEmailAndPassword(auth, email, password)),
    signOut: () => signOut(auth),
  };
}
