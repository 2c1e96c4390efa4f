# Exercise 5: a solution
answer = faith.summary.set_index("map")["ratio"].idxmax()
answer
