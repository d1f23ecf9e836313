// node --require this file: the laptop defaults for a function started on its own (npm run function).
import { useLaptopDefaults } from './defaults';

useLaptopDefaults();
