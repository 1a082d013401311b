"""The Microsoft edge: policy, and the agent that applies it to what ExaBGP receives."""
