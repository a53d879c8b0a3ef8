pub use agent_mesh as core;
