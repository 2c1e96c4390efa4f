# Exercise 1: a solution
probs = model.predict(data.sequences("heldout"))
answer = float(np.mean(probs.argmax(axis=1) == data.labels("heldout")))
answer
