# Exercise 3: a solution
effects = dv.ism(model, seq).extra["effects"][0, : len(seq)]
position, column = np.unravel_index(np.argmin(effects), effects.shape)
answer = (int(position), "ACGT"[column])
answer
