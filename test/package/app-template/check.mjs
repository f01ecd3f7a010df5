// What a user's script does first: import the framework and the sandbox from the installed package.
import { defineAgent, defineTool, startSwitchboard, twilioCarrier } from 'switchboard';
import { startTwilioEmulator } from 'switchboard/sandbox';

console.log(typeof defineAgent, typeof defineTool, typeof startSwitchboard, twilioCarrier.name, typeof startTwilioEmulator);
